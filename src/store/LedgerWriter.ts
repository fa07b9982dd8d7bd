import { recordsChange } from '../consent/event.js';
import { IdempotencyConflictError } from '../consent/errors.js';
import type { Change } from '../consent/validate.js';
import { chainHead, ledgerHead, maxGseq } from './chainHeads.js';
import type { Collections } from './collections.js';
import { eventFromDoc, nextEventDoc, type PositionedEvent } from './documents.js';
import { bumpProjectionVersion } from './projectionVersion.js';
import { isDuplicateKey, storeCall } from './storeCall.js';
import { subjectKey } from './subjectKey.js';

/** What an append recorded, or found already recorded under the same idempotency key. */
export interface Appended extends PositionedEvent {
  /** True when the idempotency key had been used: nothing was written. */
  readonly replayed: boolean;
}

// A writer that loses a race on (subject, seq) or gseq re-reads the heads and tries again; with
// jittered backoff even dozens of concurrent writers on one subject settle well within this bound.
const MAX_APPEND_ATTEMPTS = 200;

/**
 * The ledger's write path: appends are inserts guarded by unique indexes (the one concurrency
 * primitive that is safe on FerretDB too, whose updates are not atomic compare-and-set), each
 * followed by `sync` of the subject's projection and a new projection version.
 */
export class LedgerWriter {
  constructor(
    private readonly collections: Collections,
    private readonly sync: (key: string) => Promise<void>,
  ) {}

  // The tail of this process's queue of appends.
  private writeTurn: Promise<void> = Promise.resolve();

  // The highest gseq this process knows to be committed (it wrote or read it); null when another
  // writer may have moved past it. Appending knownGseq + 1 keeps the global order gapless.
  private knownGseq: number | null = null;

  /**
   * Appends a change to the subject's ledger chain as `actor` at `now`, then brings the projection
   * up to the ledger head. A reused idempotency key returns the first event and writes nothing; the
   * same key with a different change is an IdempotencyConflictError.
   */
  append(change: Change, actor: string, now: Date): Promise<Appended> {
    // Writers in one process take turns: every append allocates the next global gseq, so
    // concurrent appends from one process would only collide on the unique index and retry many
    // times over. Writers in other processes still race, and the unique indexes keep that safe.
    const turn = this.writeTurn.then(() => storeCall(() => this.appendOnce(change, actor, now)));
    this.writeTurn = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async appendOnce(change: Change, actor: string, now: Date): Promise<Appended> {
    const key = subjectKey(change.subject);
    const idem = change.idempotencyKey === null ? null : JSON.stringify([actor, change.idempotencyKey]);
    let collisions = 0;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (idem !== null) {
        const existing = await this.collections.events.findOne({ idem });
        if (existing !== null) {
          const event = eventFromDoc(existing);
          if (!recordsChange(event, change)) {
            throw new IdempotencyConflictError(
              `idempotencyKey ${JSON.stringify(change.idempotencyKey)} was already used for a different change (event ${existing._id}); use a new key for a new change`,
            );
          }
          await this.sync(existing.subject);
          await bumpProjectionVersion(this.collections);
          return { event, gseq: existing.gseq, replayed: true };
        }
      }
      // After repeated collisions, read the heads the slow, authoritative way (a full query of the
      // ledger) in case a chain holds events whose ids don't follow eventIdOf.
      const [head, lastGseq] = await Promise.all([
        collisions < 3 ? chainHead(this.collections, key).then((found) => found.head) : ledgerHead(this.collections, key),
        this.knownGseq ?? maxGseq(this.collections),
      ]);
      const doc = nextEventDoc(change, key, actor, now, head, lastGseq, idem);
      try {
        await this.collections.events.insertOne(doc);
      } catch (error) {
        if (isDuplicateKey(error)) {
          // Another writer took this seq or gseq (or the key): learn the heads again and retry.
          this.knownGseq = null;
          collisions++;
          await backoff(attempt);
          continue;
        }
        throw error;
      }
      this.knownGseq = doc.gseq;
      await this.sync(key);
      // Before acknowledging: caches must see that the projection changed (ProjectionCache).
      await bumpProjectionVersion(this.collections);
      return { event: eventFromDoc(doc), gseq: doc.gseq, replayed: false };
    }
    throw new Error(`append gave up after ${MAX_APPEND_ATTEMPTS} attempts on ${key}`);
  }
}

function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(2 ** Math.min(attempt, 6), 50);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
