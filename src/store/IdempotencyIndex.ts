import type { Collections, TailDoc } from './collections.js';
import { BACKGROUND_COMMENT, type ProjectionCache } from './ProjectionCache.js';
import { readAllCommitsWithDone } from './tail.js';

/** Where the event recorded under an idempotency key is. */
export interface IdempotentEvent {
  readonly id: string;
  readonly gseq: number;
  /** The commit that holds it, while known (its event may not be in consent_events yet after a crash). */
  readonly commit: number | null;
}

/**
 * Every idempotency key in the ledger, in memory, so a writer checks a whole batch before writing
 * anything without a read: on FerretDB a lookup by `idem` reads the whole ledger (DESIGN §6).
 *
 * Loaded once, on the first write that carries a key (one read of the ledger's keys, and the
 * commits still in the log), then kept current by following the log: a writer follows the log
 * before every commit, and a commit by another writer that used the same key makes the later
 * commit collide on the log's `_id` and check again. Events without a caller's key are not held.
 * Memory grows with the ledger's keyed events (about 100 bytes each).
 */
export class IdempotencyIndex {
  private keys: Map<string, IdempotentEvent> | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly collections: Collections,
    cache: ProjectionCache,
  ) {
    cache.onCommit((commit) => this.add(commit));
    // A load means the ledger may have changed outside the log (a seed): read the keys again when next needed.
    cache.onLoad(() => {
      this.generation++;
      this.keys = null;
    });
  }

  private generation = 0;

  /** Loads the index if it is not yet (rejects on a database error; the next call tries again). */
  async ensureLoaded(): Promise<void> {
    while (this.keys === null || this.loading !== null) {
      if (this.keys !== null && this.loading === null) return;
      await this.startLoad();
    }
  }

  private startLoad(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** The event recorded under `idem`, if any; call `ensureLoaded` first. */
  get(idem: string): IdempotentEvent | undefined {
    if (this.keys === null) throw new Error('the idempotency index is not loaded');
    return this.keys.get(idem);
  }

  private add(commit: TailDoc): void {
    if (this.keys === null) return;
    for (const event of commit.events) if (!isDefaultKey(event.idem)) this.keys.set(event.idem, { id: event._id, gseq: event.gseq, commit: commit._id });
  }

  private async load(): Promise<void> {
    // Commits followed while the ledger is read are added as they come (`add`), so start the map first.
    const keys = new Map<string, IdempotentEvent>();
    const generation = this.generation;
    this.keys = keys;
    try {
      const cursor = this.collections.events.find({}, { projection: { _id: 1, idem: 1, gseq: 1 }, batchSize: 10_000, comment: BACKGROUND_COMMENT });
      for await (const doc of cursor) if (!isDefaultKey(doc.idem) && !keys.has(doc.idem)) keys.set(doc.idem, { id: doc._id, gseq: doc.gseq, commit: null });
      // Commits not yet in consent_events (a writer died before inserting them) are still in the log.
      for (const commit of await readAllCommitsWithDone(this.collections, BACKGROUND_COMMENT)) if (commit.done !== true) this.add(commit);
      if (this.generation !== generation) this.keys = null;
    } catch (error) {
      if (this.keys === keys) this.keys = null;
      throw error;
    }
  }
}

// An event without a caller's key is stored under `event:<id>` (documents.ts), which no caller can send.
function isDefaultKey(idem: string): boolean {
  return idem.startsWith('event:');
}
