import { afterEach, describe, expect, it } from 'vitest';
import { Binary, BSON, type CommandStartedEvent } from 'mongodb';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { createDecider } from '../../src/consent/decide.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import { stateFromHead } from '../../src/store/documents.js';
import { openStore } from '../../src/store/openStore.js';
import { Projector } from '../../src/store/Projector.js';
import { HEARTBEAT_MS, WRITER_HEARTBEAT_PREFIX } from '../../src/store/projectionVersion.js';
import { bucketOf, commitKey, dropLog, LOG_DONE_COLLECTION, logBucket, readAllCommits, readAllCommitsWithDone, readCommitsAfter } from '../../src/store/tail.js';
import { OLD_LOG_DONE_COLLECTION, OLD_LOG_PREFIX } from '../../src/store/upgradeLog.js';
import { aSetChange } from '../helpers/changes.js';
import { aFreshDbName, anotherConnection, dropStore, ledgerHead, mongoUri, TEST_CACHE } from '../helpers/database.js';

// The Projector writes the projection after acknowledgements (src/store/Projector.ts). These tests
// check its bulk-load mode, its done markers and that a sweep on another replica leaves the
// commits of a writer that is alive alone, however old they are.

const stores: ConsentStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0).reverse()) await dropStore(store);
});

async function aDeferredStore(): Promise<ConsentStore> {
  const store = await openStore({ uri: mongoUri(), dbName: aFreshDbName(), timeoutMs: 10_000, cache: TEST_CACHE, deferProjection: true });
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

  it('rewriting a subject leaves it without a document for a moment (delete, then insert), which no reader takes for its state', async () => {
    const store = await aDeferredStore();
    const decider = createDecider(DEFAULT_POLICY);
    await store.append(aSetChange('gap', 'AI_TRAINING'), 'test', new Date());
    await store.append(aSetChange('gap-other', 'AI_TRAINING'), 'test', new Date());
    await store.projectionSettled();
    await store.append(aSetChange('gap', 'AI_TRAINING', { choice: 'DENY' }), 'test', new Date());
    // The projector's rewrite between its deleteMany and its insertMany (Projector.rewrite).
    await store.collections.states.deleteMany({ _id: { $in: ['artist/gap'] } });

    // A replica starting now loads the projection without the subject: the log, which still holds
    // the commit being projected, gives its head.
    const other = await anotherConnection(store);
    try {
      expect((await other.statesByKeys(['artist/gap'])).get('artist/gap')?.[0]).toMatchObject({ purpose: 'AI_TRAINING', choice: 'DENY' });
      const listed = await other.artistsAllowing('AI_TRAINING', decider, { first: 10, afterArtistId: null, at: new Date() });
      expect(listed.artistIds).toEqual(['gap-other']);
      // A write there chains after the head in the log, not after an empty projection.
      const next = await other.append(aSetChange('gap', 'AI_TRAINING'), 'test', new Date());
      expect(next.event.seq).toBe(3);
      await other.projectionSettled();
    } finally {
      await other.close();
    }
    await store.projectionSettled();
    expect(await projectionIsAtHeads(store, ['artist/gap', 'artist/gap-other'])).toBe(true);
    expect((await store.statesByKeys(['artist/gap'])).get('artist/gap')?.[0]).toMatchObject({ choice: 'ALLOW' });
  });

  it('rewrites existing documents by deletes of one _id each, or with one deleteMany where such a delete is slow, to the same projection', async () => {
    for (const [idDeleteMs, expected] of [
      [Number.POSITIVE_INFINITY, [{ byId: 1 }, { byId: 19 }]],
      [0, [{ byId: 1 }, { in: 19 }]],
    ] as const) {
      const store = await aDeferredStore();
      const keys = Array.from({ length: 20 }, (_, i) => `rewrite-${i}`);
      for (const a of keys) await store.append(aSetChange(a, 'AI_TRAINING'), 'test', new Date());
      await store.projectionSettled();
      for (const a of keys) await store.append(aSetChange(a, 'AI_TRAINING', { choice: 'DENY' }), 'test', new Date());
      // The store's own projector is deferred and writes nothing: these commits go to a second one.
      const undone = (await readAllCommitsWithDone(store.collections)).filter((c) => c.done !== true);
      const projector = new Projector(store.collections, (key) => store.syncProjection(key), {
        view: { catchUp: () => store.cache.catchUpInBackground(), headOf: (key) => store.cache.headOf(key) },
        idDeleteMs,
      });
      // Each delete command: how many statements by one `_id` it carries, or how many ids its `$in` lists.
      const deletes: ({ byId: number } | { in: number })[] = [];
      const onDelete = (event: CommandStartedEvent) => {
        if (event.commandName !== 'delete') return;
        const ids = (event.command as { deletes: { q: { _id: string | { $in: string[] } } }[] }).deletes.map((statement) => statement.q._id);
        deletes.push(typeof ids[0] === 'string' ? { byId: ids.length } : { in: ids[0]!.$in.length });
      };
      store.client.on('commandStarted', onDelete);
      projector.enqueue(undone);
      await projector.settled();
      store.client.off('commandStarted', onDelete);
      expect(projector.counts).toMatchObject({ synced: 20, failedRounds: 0 });
      expect(deletes).toEqual(expected);
      expect(await projectionIsAtHeads(store, keys.map((a) => `artist/${a}`))).toBe(true);
      expect(await store.collections.states.countDocuments({ 'statements.choice': 'DENY' })).toBe(20);
    }
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
  it('stores a commit under its first gseq as a padded string, its events as one binary, and reads them back as written', async () => {
    const store = await aDeferredStore();
    const [written] = await store.appendMany([{ change: aSetChange('log-format', 'AI_TRAINING'), actor: 'artist:log-format', now: new Date() }]);
    const commits = await readAllCommits(store.collections);
    const commit = commits.find((c) => c.last === Number(written!.revision))!;
    const stored = await logBucket(store.collections, bucketOf(commit._id)).findOne({ _id: commitKey(commit._id) });
    expect(stored?._id).toBe(String(commit._id).padStart(16, '0'));
    expect(stored?.events).toBeUndefined();
    expect(stored?.payload).toBeDefined();
    const event = await store.collections.events.findOne({ gseq: commit._id });
    expect(commit.events).toEqual([event]);
    expect(await readCommitsAfter(store.collections, commit._id - 1)).toEqual([commit]);
  });

  it('a follow far behind reads the chain by point reads, then the rest of each bucket by range, across buckets, and stops at the end', async () => {
    const store = await aDeferredStore();
    // Twelve rounds, each one commit: 25 events (one of 60), across more than one bucket.
    for (let i = 0; i < 12; i++) await store.appendMany(Array.from({ length: i === 5 ? 60 : 25 }, (_, j) => ({ change: aSetChange(`far-${i}-${j}`, 'AI_TRAINING'), actor: 'admin', now: new Date() })));
    const all = (await readAllCommits(store.collections)).filter((c) => c._id !== 0);
    expect(bucketOf(all.at(-1)!._id)).toBeGreaterThan(bucketOf(all[0]!._id));
    for (const from of [0, all[3]!.last, all.at(-2)!.last, all.at(-1)!.last]) {
      expect(await readCommitsAfter(store.collections, from)).toEqual(all.filter((c) => c._id > from));
    }
  });

  it('a log written by an older version (numeric ids, nested or binary events) is finished at start-up: events in the ledger, projection at the heads, old log dropped', async () => {
    const store = await aDeferredStore();
    await store.appendMany([{ change: aSetChange('old-log-a', 'AI_TRAINING'), actor: 'admin', now: new Date() }]);
    const [second] = await store.appendMany([{ change: aSetChange('old-log-b', 'AI_TRAINING', { choice: 'DENY' }), actor: 'admin', now: new Date() }]);
    await store.projectionSettled();
    const commits = (await readAllCommits(store.collections)).filter((c) => c._id !== 0);
    const last = commits.at(-1)!;
    expect(last.last).toBe(Number(second!.revision));
    // As an older version left it: its log in consent_log_<n>, the last commit's events never
    // inserted into the ledger nor projected (its writer died between the two inserts).
    const db = store.collections.events.db;
    const oldBucket = db.collection<Record<string, unknown> & { _id: number }>(`${OLD_LOG_PREFIX}0`);
    await oldBucket.insertOne({ _id: 0, last: commits[0]!._id - 1, at: new Date(), events: [], done: true });
    await oldBucket.insertMany(commits.map(({ done: _done, events, ...c }, i) => (i % 2 === 0 ? { ...c, events } : { ...c, payload: new Binary(BSON.serialize({ events })) })));
    await db.collection<{ _id: number }>(OLD_LOG_DONE_COLLECTION).insertMany(commits.slice(0, -1).map((c) => ({ _id: c._id })));
    await store.collections.events.deleteMany({ gseq: { $gte: last._id } });
    await store.collections.states.deleteMany({ _id: { $in: last.events.map((e) => e.subject) } });
    await dropLog(store.collections);
    await store.close();

    const upgraded = await openStore({ uri: mongoUri(), dbName: db.databaseName, timeoutMs: 10_000, cache: TEST_CACHE });
    stores.push(upgraded);
    const names = (await upgraded.collections.events.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names.filter((n) => n.startsWith(OLD_LOG_PREFIX))).toEqual([]);
    expect(await upgraded.collections.events.countDocuments({ gseq: { $gte: last._id } })).toBe(last.events.length);
    expect(await projectionIsAtHeads(upgraded, [...commits.flatMap((c) => c.events.map((e) => e.subject))])).toBe(true);
    // Reads see the finished commit, and the next write continues the global order without a gap.
    const states = await upgraded.statesByKeys(['artist/old-log-b']);
    expect(states.get('artist/old-log-b')?.[0]?.choice).toBe('DENY');
    const [next] = await upgraded.appendMany([{ change: aSetChange('old-log-c', 'AI_TRAINING'), actor: 'admin', now: new Date() }]);
    expect(Number(next!.revision)).toBe(last.last + 1);
    expect((await readAllCommits(upgraded.collections)).map((c) => c._id)).toEqual([0, last.last + 1]);
  });
});
