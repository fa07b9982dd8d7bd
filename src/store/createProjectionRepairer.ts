import type { Logger } from 'pino';
import type { ConsentStore } from './ConsentStore.js';

/** Options of {@link createProjectionRepairer}. */
export interface ProjectionRepairerOptions {
  readonly store: ConsentStore;
  readonly logger: Logger;
  /** Time between sweeps, in ms. @default 5000 */
  readonly intervalMs?: number;
  /** How old an undone commit must be before a sweep finishes it for its writer (ms). @default STALE_COMMIT_MS */
  readonly staleCommitMs?: number;
  /**
   * Time between deep sweeps (ms), which repair; the others only prune the log. The first sweep is
   * always deep. @default 60000
   */
  readonly deepIntervalMs?: number;
}

/** Brings projections back to the ledger head after a writer died between its two writes. */
export interface ProjectionRepairer {
  /** Runs a first sweep over the whole ledger, then one every interval. */
  start(): Promise<void>;
  /** One sweep over the events appended since the last one; resolves to the subject keys repaired. */
  sweep(): Promise<string[]>;
  /** Stops the periodic sweeps and waits for a running one to end. */
  stop(): Promise<void>;
}

/**
 * A periodic projection repair sweep. Every tick prunes the log; the first sweep, and then one
 * every `deepIntervalMs`, also repairs: heals the log and finishes commits left undone too long by
 * a writer that stopped beating (on FerretDB these read the whole log and scan the ledger for one
 * missing gseq: hence not every tick, and the scan only when the log has stood still since the
 * last deep sweep, once per end). The first sweep also reads the ledger for events written
 * around the log, which can only predate it. A failed sweep (database down) is logged and retried
 * on the next tick.
 */
export function createProjectionRepairer(options: ProjectionRepairerOptions): ProjectionRepairer {
  const intervalMs = options.intervalMs ?? 5000;
  const deepIntervalMs = options.deepIntervalMs ?? 60_000;
  let since = 0;
  let lastDeep: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  // The log's end at the last deep sweep, and the end last looked past for orphaned events.
  let endAtLastDeep: number | null = null;
  let lookedPast: number | null = null;
  // The first deep sweep looks past the log's end for events no commit lists; later ones only when
  // the log has not moved since the previous deep sweep, once per end (a writer whose insert
  // collides with such events heals them itself, so while writers move the log on nothing lingers).
  const lookPastEnd = (first: boolean) => (end: number): boolean => {
    const idle = end === endAtLastDeep;
    endAtLastDeep = end;
    if (!first && (!idle || end === lookedPast)) return false;
    lookedPast = end;
    return true;
  };
  let running: Promise<string[]> | null = null;

  const sweepOnce = async (): Promise<string[]> => {
    try {
      const started = performance.now();
      const deep = lastDeep === null || started - lastDeep >= deepIntervalMs;
      // Events written around the log can only predate it (see RepairOptions.aroundLog): looked for until a sweep succeeds.
      const { lastGseq, repaired } = await options.store.repairProjections(since, { staleCommitMs: options.staleCommitMs, deep, aroundLog: lastDeep === null, healLog: lookPastEnd(lastDeep === null) });
      since = lastGseq;
      if (deep) lastDeep = started;
      if (repaired.length > 0) options.logger.warn({ repaired }, 'repaired projections behind the ledger');
      return repaired;
    } catch (error) {
      options.logger.warn({ err: error }, 'projection repair sweep failed; will retry');
      return [];
    }
  };
  // Sweeps never overlap: a tick that finds one running waits for it instead of starting another.
  const sweep = (): Promise<string[]> => {
    running ??= sweepOnce().finally(() => {
      running = null;
    });
    return running;
  };

  return {
    start: async () => {
      await sweep();
      timer ??= setInterval(() => void sweep(), intervalMs);
      timer.unref();
    },
    sweep,
    stop: async () => {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
