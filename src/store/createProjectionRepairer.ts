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
 * A periodic projection repair sweep: each sweep looks only at ledger events newer than the last
 * one seen, so it stays cheap however long the ledger grows. A failed sweep (database down) is
 * logged and retried on the next tick from the same point.
 */
export function createProjectionRepairer(options: ProjectionRepairerOptions): ProjectionRepairer {
  const intervalMs = options.intervalMs ?? 5000;
  let since = 0;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<string[]> | null = null;

  const sweepOnce = async (): Promise<string[]> => {
    try {
      const { lastGseq, repaired } = await options.store.repairProjections(since, { staleCommitMs: options.staleCommitMs });
      since = lastGseq;
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
