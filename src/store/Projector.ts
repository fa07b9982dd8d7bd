import type { Logger } from 'pino';
import type { Collections, StateDoc, TailDoc } from './collections.js';
import { HEARTBEAT_MS, WRITER_HEARTBEAT_PREFIX } from './projectionVersion.js';
import { stateFromHead } from './documents.js';
import { failedIndexes, hasOnlyDuplicateKeys, isDuplicateKey } from './storeCall.js';
import { markDone } from './tail.js';

/**
 * Subjects written at once: one. FerretDB takes one write at a time and, as released, an update
 * costs in proportion to the collection (ferretdbBinary.ts), so parallel projection writes would
 * queue the writer's commits behind them (measured: setConsent p50 5.3 s at 4); one at a time, a
 * commit waits for one at most.
 */
const SYNC_CONCURRENCY = 1;

/** Rounds of "write, follow the log, write what moved on" before falling back to `sync`. */
const MAX_WRITE_ROUNDS = 5;

/**
 * Before each write of existing documents (a chunk, see `rewrite`), the projector waits until no
 * replica has committed for this long (ms), unless a commit it holds has waited PROJECT_WITHIN_MS
 * since it was queued. FerretDB holds its write lock through each write, so a commit, and a read,
 * queued behind a chunk waits for it: about 0.25 s for 500 on the embedded build, and on FerretDB as
 * released, whose deletes and updates scan the collection, seconds (a `deleteMany` of 51 took
 * about 6.5 s on the bench's projection). Under a steady stream of commits the projection therefore
 * lags by up to PROJECT_WITHIN_MS and then writes without pausing (reads do not wait for it: they
 * follow the commit log, which keeps undone commits). A store whose last FAST_UPDATES_IN_A_ROW
 * writes each took under FAST_UPDATE_MS (MongoDB, indexed) is not waited for at all. Inserts don't
 * wait.
 */
const WRITER_QUIET_MS = 50;
const PROJECT_WITHIN_MS = 20_000;
const FAST_UPDATE_MS = 20;
const FAST_UPDATES_IN_A_ROW = 20;

/** What the projector needs to know about the process's writer: when it last had work (monotonic ms). */
export interface WriterActivity {
  lastActiveAt(): number;
}

/** Existing projection documents rewritten per bulk delete and insertMany (see `Projector.rewrite`). */
const REWRITE_CHUNK = 500;

/**
 * A delete by `_id` slower than this (ms) scans the collection (FerretDB as released: 170–210 ms
 * on 25,000 documents; an index seek on MongoDB and on the embedded FerretDB takes 1–5 ms): the
 * rest of its chunk is deleted with one deleteMany instead (see `Projector.rewrite`).
 */
const ID_DELETE_MS = 50;

/** Fresh projection documents per insertMany. */
const INSERT_CHUNK = 1000;

/**
 * insertMany calls of fresh documents in flight at once: FerretDB encodes a call's documents in
 * its connection's goroutine before SQLite takes them one writer at a time, so two calls overlap
 * the encoding (measured: 13,000 vs 9,600 documents/s; four: 10,600).
 */
const INSERTS_AT_ONCE = 2;

/** How a Projector works. */
export interface ProjectorOptions {
  readonly logger?: Logger;
  /** The process's copy of the ledger heads, followed to the log's end by `catchUp`. */
  readonly view?: { catchUp(): Promise<void>; headOf(key: string): StateDoc | null | undefined };
  /** The writer to give way to; omitted, updates go at once. */
  readonly writer?: WriterActivity;
  /** The projection's version token, which every commit replaces (other replicas' commits to give way to). */
  readonly commitToken?: () => Promise<string | null>;
  /** The writer's id (commits carry it): the heartbeat that keeps other replicas' sweeps off its commits. */
  readonly id?: string;
  /**
   * Write nothing until `settled()` is called, then everything queued at once (a bulk load such as
   * the import: a subject changed many times is written once, and subjects new to the projection
   * are inserted, which FerretDB does fast, instead of updated).
   */
  readonly deferred?: boolean;
  /** A delete by `_id` slower than this (ms) means the server scans for it (see ID_DELETE_MS; tests force either path). */
  readonly idDeleteMs?: number;
}

// The heads still to write: the newest per subject, where each subject's chain starts in the
// commits taken, and those commits' ids (to mark done). Memory grows with subjects, not events.
interface Batch {
  /** When its first commit was queued (monotonic ms). */
  readonly since: number;
  readonly heads: Map<string, StateDoc>;
  readonly firstSeq: Map<string, number>;
  readonly commits: number[];
}

const emptyBatch = (): Batch => ({ since: performance.now(), heads: new Map(), firstSeq: new Map(), commits: [] });

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Writes the projection behind the writer, after acknowledging: reads don't need it (the cache and
 * the database read overlay the commit log), loads and the uncached read path do. Commits are
 * folded into one batch as they arrive (the newest head per subject), and each round takes the
 * whole batch, so a subject changed many times is written once.
 *
 * Subjects whose chain starts in the batch are inserted with `insertMany` (an insert is what
 * FerretDB does fast); the others are updated one at a time, giving way to commits (each update
 * scans on FerretDB and holds its write lock), then checked against the log and written again if
 * a racing replica's older head landed last. What the process's copy cannot vouch for goes through
 * `sync` (the convergent rewrite of projection.ts). Then the commits are marked done, which lets the
 * log be pruned. A failed round is logged; its commits stay undone and the repair sweep projects them.
 */
export class Projector {
  private batch: Batch = emptyBatch();
  private running: Promise<void> | null = null;
  private idle: (() => void)[] = [];
  // The commits queued or being projected, by first gseq.
  private readonly pending = new Set<number>();
  // Deferred mode: set by `settled()` until the batch is written.
  private flushing = false;
  private readonly heartbeat: NodeJS.Timeout | null;
  /** Rounds run and subjects written since start (for tests and the bench). */
  readonly counts = { rounds: 0, inserted: 0, synced: 0, failedRounds: 0 };

  constructor(
    private readonly collections: Collections,
    private readonly sync: (key: string) => Promise<void>,
    private readonly options: ProjectorOptions = {},
  ) {
    const id = options.id;
    this.heartbeat =
      id === undefined
        ? null
        : setInterval(() => {
            if (this.pending.size > 0) void this.beat(id);
          }, HEARTBEAT_MS);
    this.heartbeat?.unref();
  }

  /** Folds commits into the batch to project (their events are in consent_events already); one already pending is skipped. */
  enqueue(commits: readonly TailDoc[]): void {
    if (this.batch.commits.length === 0) this.batch = emptyBatch();
    const { heads, firstSeq, commits: ids } = this.batch;
    for (const commit of commits) {
      if (this.pending.has(commit._id)) continue;
      this.pending.add(commit._id);
      ids.push(commit._id);
      for (const event of commit.events) {
        if ((heads.get(event.subject)?.seq ?? 0) < event.seq) heads.set(event.subject, stateFromHead(event));
        if (event.seq < (firstSeq.get(event.subject) ?? Number.POSITIVE_INFINITY)) firstSeq.set(event.subject, event.seq);
      }
    }
    this.kick();
  }

  /** Whether the commit starting at `first` is queued here or being projected (its writer is alive). */
  has(first: number): boolean {
    return this.pending.has(first);
  }

  /** Resolves when every commit queued so far is projected (or its round failed); in deferred mode, starts the writing. */
  settled(): Promise<void> {
    if (this.options.deferred === true && this.batch.commits.length > 0) {
      this.flushing = true;
      this.kick();
    }
    if (this.running === null) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops the heartbeat and removes this writer's heartbeat document (call once settled). */
  async close(): Promise<void> {
    if (this.heartbeat === null) return;
    clearInterval(this.heartbeat);
    await this.collections.meta.deleteOne({ _id: WRITER_HEARTBEAT_PREFIX + this.options.id! }).catch(() => undefined);
  }

  private async beat(id: string): Promise<void> {
    await this.collections.meta
      .updateOne({ _id: WRITER_HEARTBEAT_PREFIX + id }, { $set: { token: '', at: new Date(), kind: 'writer' } }, { upsert: true })
      .catch((error: unknown) => this.options.logger?.debug({ err: error }, 'projector heartbeat failed'));
  }

  private kick(): void {
    if (this.running !== null || (this.options.deferred === true && !this.flushing)) return;
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.batch.commits.length > 0 && (this.options.deferred !== true || this.flushing)) this.kick();
      else {
        this.flushing = false;
        for (const resolve of this.idle.splice(0)) resolve();
      }
    });
  }

  private async run(): Promise<void> {
    while (this.batch.commits.length > 0) {
      const batch = this.batch;
      this.batch = emptyBatch();
      try {
        await this.project(batch);
        this.counts.rounds++;
      } catch (error) {
        this.counts.failedRounds++;
        this.options.logger?.warn({ err: error, commits: batch.commits }, 'projection round failed; the repair sweep will project these commits');
      } finally {
        for (const first of batch.commits) this.pending.delete(first);
      }
    }
  }

  // Waits for a pause in commits: this process's writer idle for WRITER_QUIET_MS and the
  // projection's version token (which every commit on any replica replaces) unchanged since a look
  // at least that long ago (one small read per look); at most until `deadline` (monotonic ms), and
  // not at all when updates are fast.
  private async giveWay(deadline: number): Promise<void> {
    const { writer, commitToken } = this.options;
    if (writer === undefined || this.fastUpdates >= FAST_UPDATES_IN_A_ROW) return;
    while (performance.now() < deadline) {
      if (performance.now() - writer.lastActiveAt() >= WRITER_QUIET_MS) {
        const token = commitToken === undefined ? null : await commitToken();
        if (token === this.lastToken) return;
        this.lastToken = token;
      }
      await new Promise((resolve) => setTimeout(resolve, WRITER_QUIET_MS));
    }
  }

  // The version token at the projector's last look (giveWay).
  private lastToken: string | null | undefined = undefined;
  // Updates in a row that took under FAST_UPDATE_MS (on FerretDB an update's cost depends on where
  // its document sits, so one fast update says little).
  private fastUpdates = 0;

  // Times an update (giveWay skips waiting on a store that updates fast).
  private async timed(update: () => Promise<unknown>): Promise<void> {
    const started = performance.now();
    await update();
    this.fastUpdates = performance.now() - started < FAST_UPDATE_MS ? this.fastUpdates + 1 : 0;
  }

  /**
   * Writes projection documents of subjects that have one: per chunk, the old documents deleted by
   * `_id` in one bulk write, then one insertMany, rather than one replaceOne each (a round trip per
   * document). Not one `deleteMany` with `$in`: FerretDB pushes down only a filter of one `_id` and
   * decodes the whole collection for anything else (2.1 s for 500 of 25,000 documents, against
   * 0.25 s for 500 deletes by `_id` on the embedded FerretDB, whose `_id` lookups use the index:
   * ferretdbBinary.ts; BENCHMARKS.md, "The projector's writes"). A server whose delete by `_id`
   * scans (FerretDB as released) would pay one scan per document, so the first delete of each chunk
   * goes alone and is timed: over ID_DELETE_MS, the rest go as one `deleteMany`, one scan in all.
   *
   * Between the delete and the insert a subject has no document, which no reader takes for its
   * state: every read of the projection overlays the commit log, which holds the commit being
   * projected (it is not done until this round marks it), and a writer without the head in memory
   * walks the subject's events (chainHead). A document inserted meanwhile (another replica's
   * projector, a sync) collides: that one is replaced on its own, and the caller's check rewrites
   * any head older than the log's.
   */
  private async rewrite(docs: readonly StateDoc[], deadline: number): Promise<void> {
    for (let i = 0; i < docs.length; i += REWRITE_CHUNK) {
      const chunk = docs.slice(i, i + REWRITE_CHUNK);
      await this.giveWay(deadline);
      await this.timed(() => this.deleteAll(chunk.map((doc) => doc._id)));
      let collided: StateDoc[] = [];
      try {
        await this.collections.states.insertMany(chunk, { ordered: false });
      } catch (error) {
        if (!isDuplicateKey(error) && !hasOnlyDuplicateKeys(error)) throw error;
        collided = failedIndexes(error).map((index) => chunk[index]!);
      }
      for (const doc of collided) await this.collections.states.replaceOne({ _id: doc._id }, doc, { upsert: true });
      this.counts.synced += chunk.length;
    }
  }

  // Deletes the projection documents of `keys` (see `rewrite`): the first alone and timed, then the
  // rest by `_id` in one bulk write, or with one deleteMany where a delete by `_id` is slow.
  private async deleteAll(keys: readonly string[]): Promise<void> {
    const started = performance.now();
    await this.collections.states.deleteOne({ _id: keys[0]! });
    const rest = keys.slice(1);
    if (rest.length === 0) return;
    if (performance.now() - started > (this.options.idDeleteMs ?? ID_DELETE_MS)) await this.collections.states.deleteMany({ _id: { $in: rest } });
    else await this.collections.states.bulkWrite(rest.map((_id) => ({ deleteOne: { filter: { _id } } })), { ordered: false });
  }

  private async project({ since, heads, firstSeq, commits }: Batch): Promise<void> {
    const deadline = since + PROJECT_WITHIN_MS;
    const toSync: string[] = [];
    const fresh = [...heads.values()].filter((doc) => firstSeq.get(doc._id) === 1);
    let toWrite = new Map([...heads].filter(([key]) => firstSeq.get(key) !== 1));
    const chunks = Array.from({ length: Math.ceil(fresh.length / INSERT_CHUNK) }, (_, i) => fresh.slice(i * INSERT_CHUNK, (i + 1) * INSERT_CHUNK));
    await forEachLimited(chunks, INSERTS_AT_ONCE, async (chunk) => {
      try {
        await this.collections.states.insertMany(chunk, { ordered: false });
        this.counts.inserted += chunk.length;
      } catch (error) {
        if (!isDuplicateKey(error) && !hasOnlyDuplicateKeys(error)) throw error;
        // Another replica projected some of them first: write those like the others.
        const failed = failedIndexes(error);
        this.counts.inserted += chunk.length - failed.length;
        for (const index of failed) toWrite.set(chunk[index]!._id, chunk[index]!);
      }
    });
    const known = this.options.view;
    if (known === undefined) toSync.push(...toWrite.keys());
    else {
      // Write each head, then follow the log and write again any subject it shows a newer head
      // for. Enough against a racing replica: its projector writes a newer head only after
      // logging it, so if that write landed before ours (ours would be a stale overwrite), the
      // commit was in the log before our follow, which sees it and writes it again.
      for (let round = 0; round < MAX_WRITE_ROUNDS && toWrite.size > 0; round++) {
        await this.rewrite([...toWrite.values()], deadline);
        await known.catchUp();
        // A subject with commits folded in since is written again by the next round, which checks again.
        const queued = this.batch.heads;
        const again = new Map<string, StateDoc>();
        for (const [key, doc] of toWrite) {
          if (queued.has(key)) continue;
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
      await this.giveWay(deadline);
      await this.timed(() => this.sync(key));
      this.counts.synced++;
    });
    await markDone(this.collections, commits);
  }
}
