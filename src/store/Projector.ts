import type { Logger } from 'pino';
import type { Collections, StateDoc, TailDoc } from './collections.js';
import { stateFromHead } from './documents.js';
import { isDuplicateKey } from './storeCall.js';
import { markDone } from './tail.js';

/**
 * Subjects written at once: one. FerretDB takes one write at a time and an update costs in
 * proportion to the collection, so parallel projection writes would queue the writer's commits
 * behind them (measured: setConsent p50 5.3 s at 4); one at a time, a commit waits for one at most.
 */
const SYNC_CONCURRENCY = 1;

/** Rounds of "write, follow the log, write what moved on" before falling back to `sync`. */
const MAX_WRITE_ROUNDS = 5;

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

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
    /** The process's copy of the ledger heads, followed to the log's end by `catchUp`. */
    private readonly view?: { catchUp(): Promise<void>; headOf(key: string): StateDoc | null | undefined },
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
    const heads = new Map<string, StateDoc>();
    const firstSeq = new Map<string, number>();
    for (const commit of commits) {
      for (const event of commit.events) {
        heads.set(event.subject, stateFromHead(event));
        if (!firstSeq.has(event.subject)) firstSeq.set(event.subject, event.seq);
      }
    }
    const toSync: string[] = [];
    const fresh = [...heads.values()].filter((doc) => firstSeq.get(doc._id) === 1);
    let toWrite = new Map([...heads].filter(([key]) => firstSeq.get(key) !== 1));
    if (fresh.length > 0) {
      try {
        await this.collections.states.insertMany(fresh, { ordered: false });
        this.counts.inserted += fresh.length;
      } catch (error) {
        if (!isDuplicateKey(error) && !hasOnlyDuplicateKeys(error)) throw error;
        // Another replica projected some of them first: write those like the others.
        for (const index of failedIndexes(error)) toWrite.set(fresh[index]!._id, fresh[index]!);
      }
    }
    if (this.view === undefined) toSync.push(...toWrite.keys());
    else {
      // Write each head, then follow the log and write again any subject it shows a newer head
      // for. Enough against a racing replica: its projector writes a newer head only after
      // logging it, so if that write landed before ours (ours would be a stale overwrite), the
      // commit was in the log before our follow, which sees it and writes it again.
      const known = this.view;
      for (let round = 0; round < MAX_WRITE_ROUNDS && toWrite.size > 0; round++) {
        await forEachLimited([...toWrite.values()], SYNC_CONCURRENCY, async (doc) => {
          await this.collections.states.replaceOne({ _id: doc._id }, doc, { upsert: true }).catch(async (error: unknown) => {
            // Two upserts of a missing document race on _id: the other is in; overwrite it.
            if (!isDuplicateKey(error)) throw error;
            await this.collections.states.replaceOne({ _id: doc._id }, doc);
          });
          this.counts.synced++;
        });
        await known.catchUp();
        const again = new Map<string, StateDoc>();
        for (const [key, doc] of toWrite) {
          const head = known.headOf(key);
          if (head === undefined) toSync.push(key);
          else if (head !== null && head.seq > doc.seq) again.set(key, head);
        }
        toWrite = again;
      }
      toSync.push(...toWrite.keys());
    }
    // What the cache cannot vouch for: rewrite from the ledger head and re-read until it matches.
    await forEachLimited(toSync, SYNC_CONCURRENCY, async (key) => {
      await this.sync(key);
      this.counts.synced++;
    });
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
