import { afterEach, describe, expect, it } from 'vitest';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { ANNOUNCE_PREFIX, ANNOUNCEMENT_RETAIN_MS, announceCommit, pruneAnnouncements, readProjectionVersion } from '../../src/store/projectionVersion.js';
import { aSetChange } from '../helpers/changes.js';
import { aFreshStore, anotherConnection, dropStore } from '../helpers/database.js';

// Each writer announces the log's end it committed in a document of its own (projectionVersion.ts
// `announceCommit`); the version's end is the highest of them, and the version's token changes
// with every announcement.

const stores: ConsentStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0).reverse()) await dropStore(store);
});

describe('commit announcements', () => {
  it('the version ends at the highest end any writer announced, on whichever replica reads it, and changes token with each', async () => {
    const a = await aFreshStore();
    stores.push(a);
    const b = await anotherConnection(a);
    stores.push(b);
    const first = await a.append(aSetChange('ann-a', 'AI_TRAINING'), 'test', new Date());
    const before = await readProjectionVersion(b.collections);
    expect(before?.end).toBe(Number(first.revision));
    const second = await b.append(aSetChange('ann-b', 'AI_TRAINING'), 'test', new Date());
    const after = await readProjectionVersion(a.collections);
    expect(after?.end).toBe(Number(second.revision));
    expect(after?.token).not.toBe(before?.token);
    // Two announcement documents, one per writer: neither overwrote the other.
    expect(await a.collections.meta.countDocuments({ kind: 'announce' })).toBe(2);
    // A late announcement of a lower end (a writer whose round finished first but announced last) does not lower it.
    await announceCommit(a.collections, 'late-writer', Number(first.revision));
    expect((await readProjectionVersion(b.collections))?.end).toBe(Number(second.revision));
  });

  it('pruning deletes announcements silent for the retention, except the one with the highest end', async () => {
    const store = await aFreshStore();
    stores.push(store);
    await announceCommit(store.collections, 'old-low', 5);
    await announceCommit(store.collections, 'old-high', 9);
    await announceCommit(store.collections, 'recent', 7);
    const old = new Date(Date.now() - ANNOUNCEMENT_RETAIN_MS - 1000);
    await store.collections.meta.updateMany({ _id: { $in: [`${ANNOUNCE_PREFIX}old-low`, `${ANNOUNCE_PREFIX}old-high`] } }, { $set: { at: old } });
    expect(await pruneAnnouncements(store.collections, new Date())).toBe(1);
    const left = (await store.collections.meta.find({ kind: 'announce' }).toArray()).map((d) => d._id).sort();
    expect(left).toEqual([`${ANNOUNCE_PREFIX}old-high`, `${ANNOUNCE_PREFIX}recent`]);
    expect((await readProjectionVersion(store.collections))?.end).toBe(9);
  });
});
