import type { Logger } from 'pino';
import type { Collections, TailDoc } from './collections.js';
import { stateFromHead } from './documents.js';
import { isDuplicateKey } from './storeCall.js';
import { markDone } from './tail.js';

/** Subjects projected at once by `syncProjection` (each is a few point reads and one update). */
const SYNC_CONCURRENCY = 4;

/**
 * Writes the projection behind the writer, after acknowledging: reads don't need it (the cache and
 * the database read overlay the commit log), loads and the uncached read path do. Each round takes
 * every commit queued since the last, so a subject changed many times is written once.
 *
 * Subjects whose chain starts in these commits are inserted in one `insertMany` (an insert is what
 * FerretDB does fast); the others go through `sync` (the convergent rewrite of projection.ts,
 * which repairs a stale overwrite by a racing replica). Then the commits are marked done, which
 * lets the log be pruned. A failed round is logged; its commits stay undone and the repair sweep
 * projects them.
 */
export class Projector {
  private queue: TailDoc[] = [];
  private running: Promise<void> | null = null;
  private idle: (() => void)[] = [];
  /** Rounds run and subjects written since start (for tests and the bench). */
  readonly counts = { rounds: 0, inserted: 0, synced: 0, failedRounds: 0 };

  constructor(
    private readonly collections: Collections,
    private readonly sync: (key: string) => Promise<void>,
    private readonly logger?: Logger,
  ) {}

  /** Queues commits to project (their events are in consent_events already). */
  enqueue(commits: readonly TailDoc[]): void {
    this.queue.push(...commits);
    this.kick();
  }

  private kick(): void {
    if (this.running !== null) return;
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.queue.length > 0) this.kick();
      else for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  /** Resolves when every commit queued so far is projected (or its round failed). */
  settled(): Promise<void> {
    if (this.running === null) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const commits = this.queue.splice(0);
      try {
        await this.project(commits);
        this.counts.rounds++;
      } catch (error) {
        this.counts.failedRounds++;
        this.logger?.warn({ err: error, commits: commits.map((c) => c._id) }, 'projection round failed; the repair sweep will project these commits');
      }
    }
  }

  private async project(commits: readonly TailDoc[]): Promise<void> {
    const heads = new Map<string, TailDoc['events'][number]>();
    const firstSeq = new Map<string, number>();
    for (const commit of commits) {
      for (const event of commit.events) {
        heads.set(event.subject, event);
        if (!firstSeq.has(event.subject)) firstSeq.set(event.subject, event.seq);
      }
    }
    const fresh = [...heads.values()].filter((event) => firstSeq.get(event.subject) === 1);
    const toSync = [...heads.keys()].filter((key) => firstSeq.get(key) !== 1);
    if (fresh.length > 0) {
      try {
        await this.collections.states.insertMany(fresh.map(stateFromHead), { ordered: false });
        this.counts.inserted += fresh.length;
      } catch (error) {
        if (!isDuplicateKey(error) && !hasOnlyDuplicateKeys(error)) throw error;
        // Another replica projected some of them first: bring those to the head the slow way.
        for (const index of failedIndexes(error)) toSync.push(fresh[index]!.subject);
      }
    }
    let next = 0;
    const worker = async () => {
      while (next < toSync.length) {
        const key = toSync[next++]!;
        await this.sync(key);
        this.counts.synced++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, toSync.length) }, worker));
    await markDone(
      this.collections,
      commits.map((c) => c._id),
    );
  }
}

interface WriteErrorLike {
  readonly code?: number;
  readonly index: number;
}

function writeErrorsOf(error: unknown): WriteErrorLike[] {
  const writeErrors = (error as { writeErrors?: WriteErrorLike[] | WriteErrorLike }).writeErrors;
  return Array.isArray(writeErrors) ? writeErrors : writeErrors === undefined ? [] : [writeErrors];
}

/** Whether a bulk insert failed only on unique indexes (documents already there). */
export function hasOnlyDuplicateKeys(error: unknown): boolean {
  const list = writeErrorsOf(error);
  return list.length > 0 && list.every((e) => e.code === 11000);
}

/** The indexes of the documents a bulk insert did not insert. */
export function failedIndexes(error: unknown): number[] {
  return writeErrorsOf(error).map((e) => e.index);
}
