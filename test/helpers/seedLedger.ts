import { PURPOSES } from '../../src/consent/purposes.js';
import type { Change } from '../../src/consent/validate.js';
import type { Collections, EventDoc, StateDoc } from '../../src/store/collections.js';
import { nextEventDoc, stateFromHead } from '../../src/store/documents.js';
import { bumpProjectionVersion } from '../../src/store/projectionVersion.js';
import { subjectKey } from '../../src/store/subjectKey.js';
import { aClearChange, aSetChange } from './changes.js';

/** One change to record, by whom and when. */
export interface TimedChange {
  readonly change: Change;
  readonly actor: string;
  readonly at: Date;
}

/**
 * Ledger documents for `changes` in the given order, exactly as the store would have written them:
 * per-subject seq and hash chain (core `hashEvent`), gapless gseq from `firstGseq`, and each
 * event's `state` from the core's `applyToSubject`. Lets tests build large, valid ledgers with insertMany.
 */
export function ledgerDocs(changes: Iterable<TimedChange>, firstGseq = 1): EventDoc[] {
  const heads = new Map<string, EventDoc>();
  const docs: EventDoc[] = [];
  let gseq = firstGseq;
  for (const { change, actor, at } of changes) {
    const key = subjectKey(change.subject);
    const head = heads.get(key);
    // The store's own construction, so seeded chains are exactly what the service would write.
    const doc = nextEventDoc(change, key, actor, at, head ?? null, gseq++ - 1, null);
    heads.set(key, doc);
    docs.push(doc);
  }
  return docs;
}

/**
 * `count` varied changes (SET ALLOW/DENY, some CLEAR) over `artists` artists and `tracksPerArtist`
 * tracks each, one millisecond apart from `start`; deterministic, so a run can be repeated.
 */
export function* syntheticChanges(count: number, options: { artists?: number; tracksPerArtist?: number; start?: Date } = {}): Generator<TimedChange> {
  const artists = options.artists ?? 1000;
  const tracks = options.tracksPerArtist ?? 4;
  const start = (options.start ?? new Date('2026-01-01T00:00:00Z')).getTime();
  for (let i = 0; i < count; i++) {
    const artistId = `seed-artist-${i % artists}`;
    const slot = Math.floor(i / artists) % (tracks + 1);
    const trackId = slot === 0 ? null : `seed-track-${slot}`;
    const purpose = PURPOSES[(i * 7) % PURPOSES.length]!;
    const change: Change = i % 6 === 5
      ? aClearChange(artistId, purpose, trackId)
      : aSetChange(artistId, purpose, { trackId, choice: i % 3 === 0 ? 'DENY' : 'ALLOW', termsVersion: 'tos-seed', source: 'seed' });
    yield { change, actor: 'seeder', at: new Date(start + i) };
  }
}

/** Inserts ledger documents in batches (unordered within a batch), without a projection; returns how many were written. */
export async function insertLedger(collections: Collections, docs: readonly EventDoc[], batchSize = 5000): Promise<number> {
  for (let i = 0; i < docs.length; i += batchSize) {
    await collections.events.insertMany(docs.slice(i, i + batchSize), { ordered: false });
  }
  return docs.length;
}

/**
 * Inserts ledger documents and the projection the store would derive from them (each subject's
 * head, via the store's own `stateFromHead`), without one sync round trip per subject, then changes
 * the projection's version as a write through the store would (so caches see it); returns the
 * projection documents it inserted.
 */
export async function insertLedgerWithProjection(collections: Collections, docs: readonly EventDoc[], batchSize = 5000): Promise<StateDoc[]> {
  await insertLedger(collections, docs, batchSize);
  const heads = new Map<string, EventDoc>();
  for (const doc of docs) if ((heads.get(doc.subject)?.seq ?? 0) < doc.seq) heads.set(doc.subject, doc);
  const states: StateDoc[] = [...heads.values()].map(stateFromHead);
  for (let i = 0; i < states.length; i += batchSize) {
    await collections.states.insertMany(states.slice(i, i + batchSize), { ordered: false });
  }
  await bumpProjectionVersion(collections);
  return states;
}
