import { randomUUID } from 'node:crypto';
import type { Collections } from './collections.js';
import { isDuplicateKey } from './storeCall.js';

/** The `_id` of the one document of `consent_meta` that holds the projection's version. */
export const PROJECTION_VERSION_ID = 'projection';

/**
 * Gives the projection a new version: a fresh random token, written after every change to the
 * projection and before the write that made it is acknowledged.
 *
 * A token, not a counter: FerretDB's updates are not atomic read-modify-write, so two racing `$inc`
 * could both write the same number and a reader would miss the second change. A `$set` of a value
 * nobody has written before needs no atomicity: whatever interleaving, the document never holds a
 * token again once another has replaced it, so "the token is still T" means "nothing changed since
 * T was read".
 */
export async function bumpProjectionVersion(collections: Collections): Promise<void> {
  const update = { $set: { token: randomUUID(), at: new Date() } };
  try {
    await collections.meta.updateOne({ _id: PROJECTION_VERSION_ID }, update, { upsert: true });
  } catch (error) {
    // Two upserts of a missing document race on the unique _id: the loser's document exists now.
    if (!isDuplicateKey(error)) throw error;
    await collections.meta.updateOne({ _id: PROJECTION_VERSION_ID }, update);
  }
}

/** The projection's current version token; null if the document is missing (never cached against). */
export async function readProjectionVersion(collections: Collections, comment?: string): Promise<string | null> {
  const doc = await collections.meta.findOne({ _id: PROJECTION_VERSION_ID }, comment === undefined ? {} : { comment });
  return doc?.token ?? null;
}

/** Creates the version document if it is missing (at start-up; idempotent, safe to race). */
export async function ensureProjectionVersion(collections: Collections): Promise<void> {
  try {
    await collections.meta.insertOne({ _id: PROJECTION_VERSION_ID, token: randomUUID(), at: new Date() });
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
