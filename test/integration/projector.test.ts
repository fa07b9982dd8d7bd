import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { createDecider } from '../../src/consent/decide.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import { stateFromHead } from '../../src/store/documents.js';
import { openStore } from '../../src/store/openStore.js';
import { HEARTBEAT_MS, WRITER_HEARTBEAT_PREFIX } from '../../src/store/projectionVersion.js';
import { bucketOf, LOG_DONE_COLLECTION, logBucket, readAllCommits, readAllCommitsWithDone, readCommitsAfter } from '../../src/store/tail.js';
import { aSetChange } from '../helpers/changes.js';
import { anotherConnection, dropStore, ledgerHead, mongoUri, TEST_CACHE } from '../helpers/database.js';

// The Projector writes the projection after acknowledgements (src/store/Projector.ts). These tests
// check its bulk-load mode, its done markers and that a sweep on another replica leaves the
// commits of a writer that is alive alone, however old they are.

const stores: ConsentStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0).reverse()) await dropStore(store);
});

async function aDeferredStore(): Promise<ConsentStore> {
  const store = await openStore({ uri: mongoUri(), dbName: `test_${randomBytes(6).toString('hex')}`, timeoutMs: 10_000, cache: TEST_CACHE, deferProjection: true });
  stores.push(store);
  return store;
}

// Every subject's projection equals what its ledger head implies.
async function projectionIsAtHeads(store: ConsentStore, keys: readonly string[]): Promise<boolean> {
  for (const key of keys) {
    const head = await ledgerHead(store, key);
    const state = await store.collections.states.findOne({ _id: key });
    if (head === null || JSON.stringify(state) !== JSON.stringify(stateFromHead(head))) return false;
  }
  return true;
}

describe('Projector', () => {
  it('in deferred mode writes nothing until projectionSettled(), then each subject once, new ones by insert, and marks every commit done', async () => {
    const store = await aDeferredStore();
    const artists = Array.from({ length: 30 }, (_, i) => `defer-${i}`);
    // Each artist changed 4 times, over many commits.
    for (let round = 0; round < 4; round++) {
      await Promise.all(artists.map((a) => store.append(aSetChange(a, 'AI_TRAINING', { choice: round % 2 === 0 ? 'ALLOW' : 'DENY' }), 'test', new Date())));
    }
    expect(await store.collections.states.countDocuments({})).toBe(0);
    // Reads follow the log meanwhile: the last change (DENY) is what a read sees.
    const states = await store.statesByKeys(artists.map((a) => `artist/${a}`));
    expect([...states.values()].every((s) => s[0]?.choice === 'DENY')).toBe(true);

    await store.projectionSettled();
    expect(store.projector.counts).toMatchObject({ inserted: 30, synced: 0, failedRounds: 0 });
    expect(await projectionIsAtHeads(store, artists.map((a) => `artist/${a}`))).toBe(true);
    const commits = await readAllCommitsWithDone(store.collections);
    expect(commits.length).toBeGreaterThan(1);
    expect(commits.filter((c) => c.done !== true)).toEqual([]);
    // Done is an insert of a marker per commit, not an update of the commit document.
    const markers = await store.collections.events.db.collection(LOG_DONE_COLLECTION).countDocuments({});
    expect(markers).toBe(commits.filter((c) => c._id !== 0).length);
  });

  it('in deferred mode updates the subjects already in the projection, and only once each', async () => {
    const store = await aDeferredStore();
    await store.append(aSetChange('defer-old', 'AI_TRAINING'), 'test', new Date());
    await store.projectionSettled();
    for (let i = 0; i < 5; i++) await store.append(aSetChange('defer-old', 'AI_TRAINING', { choice: i % 2 === 0 ? 'DENY' : 'ALLOW' }), 'test', new Date());
    await store.projectionSettled();
    expect(store.projector.counts).toMatchObject({ inserted: 1, synced: 1, failedRounds: 0 });
    expect(await projectionIsAtHeads(store, ['artist/defer-old'])).toBe(true);
  });

  it('artistsAllowing decides each listed artist on its current head, not on a projection still behind it', async () => {
    const store = await aDeferredStore();
    const decider = createDecider(DEFAULT_POLICY);
    const list = async () => (await store.artistsAllowing('AI_TRAINING', decider, { first: 10, afterArtistId: null, at: new Date() })).artistIds;
    await store.append(aSetChange('listed-1', 'AI_TRAINING'), 'test', new Date());
    await store.append(aSetChange('listed-2', 'AI_TRAINING'), 'test', new Date());
    await store.projectionSettled();
    expect(await list()).toEqual(['listed-1', 'listed-2']);
    // The withdrawal is acknowledged; its projection is not written yet.
    await store.append(aSetChange('listed-1', 'AI_TRAINING', { choice: 'DENY' }), 'test', new Date());
    expect((await store.collections.states.findOne({ _id: 'artist/listed-1' }))?.statements[0]?.choice).toBe('ALLOW');
    expect(await list()).toEqual(['listed-2']);
  });

  it("a sweep on another replica leaves a live writer's old undone commits to it, and it finishes them", async () => {
    const writer = await aDeferredStore();
    await writer.append(aSetChange('live-writer', 'VOICE_REPLICATION'), 'test', new Date());
    // Its projector has commits to finish: it beats within HEARTBEAT_MS.
    const beat = async () => (await writer.collections.meta.countDocuments({ kind: 'writer', _id: { $regex: `^${WRITER_HEARTBEAT_PREFIX}` } })) > 0;
    await expect.poll(beat, { timeout: HEARTBEAT_MS + 3000, interval: 100 }).toBe(true);

    const other = await anotherConnection(writer);
    try {
      // Every commit is older than 0 ms: without the heartbeat the sweep would take them over.
      const { repaired } = await other.repairProjections(0, { staleCommitMs: 0 });
      expect(repaired).toEqual([]);
      expect(await writer.collections.states.countDocuments({})).toBe(0);
      expect((await readAllCommitsWithDone(writer.collections)).filter((c) => c.done !== true).length).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
    await writer.projectionSettled();
    expect(await projectionIsAtHeads(writer, ['artist/live-writer'])).toBe(true);
    // Closing removes its heartbeat.
    await writer.projector.close();
    expect(await beat()).toBe(false);
  });

  it("a sweep takes over a silent writer's undone commits", async () => {
    const writer = await aDeferredStore();
    await writer.append(aSetChange('silent-writer', 'VOICE_REPLICATION'), 'test', new Date());
    // A writer that stops beating (its process froze or died): stop its heartbeat without projecting.
    await writer.projector.close();
    const other = await anotherConnection(writer);
    try {
      const { repaired } = await other.repairProjections(0, { staleCommitMs: 0 });
      expect(repaired).toEqual(['artist/silent-writer']);
      expect(await projectionIsAtHeads(writer, ['artist/silent-writer'])).toBe(true);
      expect((await readAllCommitsWithDone(writer.collections)).filter((c) => c.done !== true)).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe('commit log format', () => {
  it('stores a commit\'s events as one binary and reads them back as written; commits stored with nested events read the same', async () => {
    const store = await aDeferredStore();
    const [written] = await store.appendMany([{ change: aSetChange('log-format', 'AI_TRAINING'), actor: 'artist:log-format', now: new Date() }]);
    const commits = await readAllCommits(store.collections);
    const commit = commits.find((c) => c.last === Number(written!.revision))!;
    const stored = await logBucket(store.collections, bucketOf(commit._id)).findOne({ _id: commit._id });
    expect(stored?.events).toBeUndefined();
    expect(stored?.payload).toBeDefined();
    const event = await store.collections.events.findOne({ gseq: commit._id });
    expect(commit.events).toEqual([event]);

    // A log written before the binary payload: the same commit with its events as documents.
    await logBucket(store.collections, bucketOf(commit._id)).deleteOne({ _id: commit._id });
    await logBucket(store.collections, bucketOf(commit._id)).insertOne({ _id: commit._id, last: commit.last, at: commit.at, by: commit.by, events: commit.events });
    expect(await readCommitsAfter(store.collections, commit._id - 1)).toEqual([commit]);
  });
});
