import { aSetChange } from '../helpers/changes.js';
import { openStore } from '../../src/store/openStore.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { monotonicMs } from './monotonicMs.js';

// Forked by `npm run bench:push` (pushBench.ts): appends changes (each a new subject's first
// event) through the store's write path, one appendMany per tick, in a process of its own so that
// a busy server cannot slow the changes that land, nor the appender's work count as the server's.

/** What the bench asks the appender to do; each command is answered by one {@link AppenderReply}. */
export type AppenderCommand =
  | { kind: 'open'; uri: string; dbName: string }
  /** One event every subscriber must receive before the measured run starts. */
  | { kind: 'warmup' }
  /** `perTick` changes every `tickMs` ms, `ticks` times, each batch one appendMany. */
  | { kind: 'run'; perTick: number; tickMs: number; ticks: number };

/** What a paced run did: every event's acknowledgement time (monotonic ms) and every batch's round trip. */
export interface AppenderRun {
  readonly acked: Array<[id: string, at: number]>;
  readonly inserts: number[];
  /** When the first batch was sent, monotonic ms. */
  readonly start: number;
  readonly seconds: number;
  /** CPU time of this process during the run, µs. */
  readonly cpuMicros: number;
}

/** The answer to one command. */
export type AppenderReply = { error?: string } & ({ kind: 'opened' } | { kind: 'warmed'; id: string } | { kind: 'ran'; run: AppenderRun });

function serve(): void {
  let store: ConsentStore | null = null;

  // Through the service's own write path (a group commit per call), as a second replica would.
  const append = async (ids: string[]) => {
    const now = new Date();
    const sent = monotonicMs();
    const results = await store!.appendMany(ids.map((id) => ({ change: aSetChange(id, 'AI_TRAINING', { choice: 'DENY' }), actor: 'bench', now })));
    const ackedAt = monotonicMs();
    return { ids: results.map((r) => r.event.id), sent, ackedAt };
  };

  const handle = async (command: AppenderCommand): Promise<AppenderReply> => {
    switch (command.kind) {
      case 'open':
        store = await openStore({ uri: command.uri, dbName: command.dbName, timeoutMs: 5000, cache: { maxSubjects: 250_000 } });
        return { kind: 'opened' };
      case 'warmup': {
        const { ids } = await append(['push-rate-warmup']);
        return { kind: 'warmed', id: ids[0]! };
      }
      case 'run': {
        const acked: Array<[string, number]> = [];
        const inserts: number[] = [];
        const cpuBefore = process.cpuUsage();
        const start = monotonicMs();
        for (let tick = 0; tick < command.ticks; tick++) {
          const due = start + tick * command.tickMs;
          if (monotonicMs() < due) await new Promise((resolve) => setTimeout(resolve, due - monotonicMs()));
          const batch = await append(Array.from({ length: command.perTick }, (_, i) => `push-rate-${tick}-${i}`));
          inserts.push(batch.ackedAt - batch.sent);
          for (const id of batch.ids) acked.push([id, batch.ackedAt]);
        }
        const cpu = process.cpuUsage(cpuBefore);
        return { kind: 'ran', run: { acked, inserts, start, seconds: (monotonicMs() - start) / 1000, cpuMicros: cpu.user + cpu.system } };
      }
    }
  };

  process.on('message', (command: AppenderCommand) => {
    handle(command).then(
      (reply) => process.send!(reply),
      (error: unknown) => process.send!({ kind: 'opened', error: String(error) } satisfies AppenderReply),
    );
  });
  process.once('disconnect', () => {
    void (store?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

if (process.send !== undefined) serve();
