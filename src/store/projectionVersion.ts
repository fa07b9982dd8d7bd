import { randomUUID } from 'node:crypto';
import type { Collections } from './collections.js';
import { isDuplicateKey } from './storeCall.js';

/** The `_id` of the one document of `consent_meta` that holds the projection's version. */
export const PROJECTION_VERSION_ID = 'projection';

/**
 * Gives the projection a new version and a new epoch: after the projection or the ledger changed
 * outside the commit log (a seed written straight into the collections, a repair), so that every
 * cache loads again. Commits call `announceCommit` instead.
 *
 * A token, not a counter: FerretDB's updates are not atomic read-modify-write, so two racing `$inc`
 * could both write the same number and a reader would miss the second change. A `$set` of a value
 * nobody has written before needs no atomicity: whatever interleaving, the document never holds a
 * token again once another has replaced it, so "the token is still T" means "nothing changed since
 * T was read".
 */
export async function bumpProjectionVersion(collections: Collections): Promise<void> {
  await setVersion(collections, { token: randomUUID(), epoch: randomUUID(), at: new Date() });
}

/**
 * Announces a commit through the commit log (tail.ts): a new token in the same epoch, so caches
 * follow the log instead of loading the projection again.
 */
export async function announceCommit(collections: Collections): Promise<void> {
  await setVersion(collections, { token: randomUUID(), at: new Date() });
}

async function setVersion(collections: Collections, fields: { token: string; epoch?: string; at: Date }): Promise<void> {
  const update = { $set: fields };
  try {
    await collections.meta.updateOne({ _id: PROJECTION_VERSION_ID }, update, { upsert: true });
  } catch (error) {
    // Two upserts of a missing document race on the unique _id: the loser's document exists now.
    if (!isDuplicateKey(error)) throw error;
    await collections.meta.updateOne({ _id: PROJECTION_VERSION_ID }, update);
  }
}

/** The projection's version: the token (any change) and the epoch (a change outside the commit log). */
export interface ProjectionVersion {
  readonly token: string;
  readonly epoch: string;
}

/** The projection's current version; null if the document is missing (never cached against). */
export async function readProjectionVersion(collections: Collections, comment?: string): Promise<ProjectionVersion | null> {
  const doc = await collections.meta.findOne({ _id: PROJECTION_VERSION_ID }, comment === undefined ? {} : { comment });
  return doc === null ? null : { token: doc.token, epoch: doc.epoch ?? '' };
}

/** Creates the version document if it is missing (at start-up; idempotent, safe to race). */
export async function ensureProjectionVersion(collections: Collections): Promise<void> {
  try {
    await collections.meta.insertOne({ _id: PROJECTION_VERSION_ID, token: randomUUID(), epoch: randomUUID(), at: new Date() });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
}

/**
 * Shares version reads between concurrent requests without ever giving a request an answer older
 * than its own start: a caller joins a read only if that read has not started yet. While one read
 * is in flight, every caller that arrives waits for the next one, which starts when the first ends;
 * so under load there is at most one version read in flight and one queued, however many requests.
 */
export function coalescedReader<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  let queued: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const pending = read();
    inFlight = pending;
    const settle = () => {
      if (inFlight === pending) inFlight = null;
    };
    pending.then(settle, settle);
    return pending;
  };
  return () => {
    if (inFlight === null) return start();
    queued ??= inFlight.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      queued = null;
      return start();
    });
    return queued;
  };
}
