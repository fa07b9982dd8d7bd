import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTION_NAMES } from '../../src/store/collections.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { nextEventDoc } from '../../src/store/documents.js';
import { openStore } from '../../src/store/openStore.js';
import { bumpProjectionVersion } from '../../src/store/projectionVersion.js';
import { commitsOf, insertCommits, logEnd, LOG_COLLECTION_PREFIX } from '../../src/store/tail.js';
import { subjectKey } from '../../src/store/subjectKey.js';
import { aSetChange } from '../helpers/changes.js';
import { aFreshStore, anotherConnection, countReads, dropStore, mongoUri, projectionMatchesHead } from '../helpers/database.js';
import { aStoreBehindFaultProxy } from '../helpers/faultProxy.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken, writeToken } from '../helpers/tokens.js';

// The projection cache (src/store/ProjectionCache.ts) must never answer from state older than a
// write acknowledged before the read began — on the replica that wrote, and on any other.

const DECISION = /* GraphQL */ `
  query One($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Artist { consent { decision(purpose: AI_TRAINING) { allowed basis } } }
    }
  }`;

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { revision decision { allowed } } }`;

const allowedOn = async (subgraph: TestSubgraph, artistId: string, token: string): Promise<boolean> => {
  const res = await subgraph.query(DECISION, { representations: [{ __typename: 'Artist', id: artistId }] }, token);
  expect(res.errors).toBeUndefined();
  return res.data._entities[0].consent.decision.allowed as boolean;
};

describe('projection cache', () => {
  let a: TestSubgraph;
  let b: TestSubgraph;
  let bStore: ConsentStore;
  let reader: string;
  let writer: string;

  beforeAll(async () => {
    a = await startTestSubgraph();
    bStore = await anotherConnection(a.store);
    b = await startTestSubgraph({ store: bStore });
    reader = await readToken();
    writer = await writeToken(undefined, ['cache-a', 'cache-b']);
  });
  afterAll(async () => {
    await b.stop();
    await bStore.close();
    await a.stop();
  });

  it('answers an unchanged projection from memory: one small read of the version, none of the projection', async () => {
    await a.store.append(aSetChange('cache-a', 'AI_TRAINING'), 'setup', new Date());
    await a.store.cache!.refresh();
    const hits = a.store.cache!.counts.hits;
    const { reads, found } = await countReads(a.store, () => allowedOn(a, 'cache-a', reader));
    expect(reads).toBe(1);
    expect(found).toEqual([COLLECTION_NAMES.meta]);
    expect(a.store.cache!.counts.hits).toBe(hits + 1);
    expect(await allowedOn(a, 'cache-a', reader)).toBe(true);
  });

  it('after a change on another replica, follows the commit log by point reads and never reads the projection', async () => {
    await b.store.cache!.refresh();
    const follows = b.store.cache!.counts.follows;
    await a.store.append(aSetChange('cache-a', 'AI_TRAINING', { choice: 'DENY' }), 'setup', new Date());
    const hits = b.store.cache!.counts.hits;
    const { found } = await countReads(b.store, async () => expect(await allowedOn(b, 'cache-a', reader)).toBe(false));
    // The version, then one point read of the next commit, which reaches the announced end: no
    // read that finds nothing, and none of consent_state.
    expect(found).toEqual([COLLECTION_NAMES.meta, `${LOG_COLLECTION_PREFIX}0`]);
    expect(b.store.cache!.counts.hits).toBe(hits + 1);
    expect(b.store.cache!.counts.follows).toBeGreaterThan(follows);
    const current = await countReads(b.store, async () => expect(await allowedOn(b, 'cache-a', reader)).toBe(false));
    expect(current.found).toEqual([COLLECTION_NAMES.meta]);
  });

  it('after a change outside the commit log (a new epoch), reads the keys from the database until it has loaded again', async () => {
    await a.store.cache!.refresh();
    await bumpProjectionVersion(a.store.collections);
    const misses = a.store.cache!.counts.misses;
    const { found } = await countReads(a.store, async () => expect(await allowedOn(a, 'cache-a', reader)).toBe(false));
    // The version (its announced end is where the copy is: no commit to read), then the keys'
    // projection documents, overlaid with the heads the log gave the cache.
    expect(found.slice(0, 2)).toEqual([COLLECTION_NAMES.meta, COLLECTION_NAMES.states]);
    expect(a.store.cache!.counts.misses).toBe(misses + 1);
    await a.store.cache!.refresh();
    const current = await countReads(a.store, async () => expect(await allowedOn(a, 'cache-a', reader)).toBe(false));
    expect(current.found).toEqual([COLLECTION_NAMES.meta]);
  });

  it('a withdrawal followed immediately by a check, 1000 times, on the writing replica and another: 0 stale allows', async () => {
    let staleOnWriter = 0;
    let staleOnOther = 0;
    let warmAllows = 0;
    // 10 rounds of 100 on fresh databases: FerretDB scans on every lookup, so a long ledger would
    // only make each write slower, not the check any stronger.
    for (let round = 0; round < 10; round++) {
      const writing = await startTestSubgraph();
      const otherStore = await anotherConnection(writing.store);
      const other = await startTestSubgraph({ store: otherStore });
      try {
        for (let i = 0; i < 100; i++) {
          await writing.store.append(aSetChange('cache-b', 'AI_TRAINING'), 'setup', new Date());
          // Both caches now hold the ALLOW at the current version (a read follows the log to it):
          // a stale answer would be ALLOW.
          await Promise.all([writing.store.statesByKeys(['artist/cache-b']), otherStore.statesByKeys(['artist/cache-b'])]);
          if (await allowedOn(other, 'cache-b', reader)) warmAllows++;
          const deny = await writing.query(SET, { input: { subject: { artistId: 'cache-b' }, purpose: 'AI_TRAINING', choice: 'DENY', termsVersion: 't' } }, writer);
          expect(deny.errors).toBeUndefined();
          const [onOther, onWriter] = await Promise.all([allowedOn(other, 'cache-b', reader), allowedOn(writing, 'cache-b', reader)]);
          if (onOther) staleOnOther++;
          if (onWriter) staleOnWriter++;
        }
        // The ALLOW checks came from memory, so every DENY check really raced a cache holding ALLOW.
        expect(otherStore.cache!.counts.hits).toBeGreaterThanOrEqual(100);
      } finally {
        await other.stop();
        await otherStore.close();
        await writing.stop();
      }
    }
    expect({ staleOnWriter, staleOnOther, warmAllows }).toEqual({ staleOnWriter: 0, staleOnOther: 0, warmAllows: 1000 });
  }, 600_000);
});

describe('projection cache: version reads', () => {
  // A subgraph whose store goes through a fault proxy, with `artistId`'s ALLOW in its warm cache.
  async function aWarmSubgraphBehindAProxy(timeoutMs: number, artistId: string) {
    const behind = await aStoreBehindFaultProxy(timeoutMs);
    const subgraph = await startTestSubgraph({ store: behind.store });
    const reader = await readToken();
    await behind.direct.append(aSetChange(artistId, 'AI_TRAINING'), 'setup', new Date());
    await behind.store.cache!.refresh();
    expect(await allowedOn(subgraph, artistId, reader)).toBe(true);
    return { behind, subgraph, reader };
  }

  it('a request never shares a version read that started before it (slow database, write in between)', async () => {
    const { behind, subgraph: slow, reader } = await aWarmSubgraphBehindAProxy(10_000, 'cache-c');
    try {
      behind.proxy.setMode({ kind: 'latency', ms: 400, repliesOnly: true });
      // First request: its version read has been answered (the ALLOW's version), but the answer is
      // still on its way while the withdrawal is acknowledged.
      const first = allowedOn(slow, 'cache-c', reader);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await behind.direct.append(aSetChange('cache-c', 'AI_TRAINING', { choice: 'DENY' }), 'setup', new Date());
      // Second request: starts after the acknowledgement, so it must see the DENY.
      const second = await allowedOn(slow, 'cache-c', reader);
      expect(second).toBe(false);
      await first; // either answer is right for a read that began before the write
    } finally {
      behind.proxy.setMode({ kind: 'pass' });
      await slow.stop();
      await behind.close();
    }
  }, 30_000);

  it('fails closed when the version cannot be read, even with a warm cache', async () => {
    const { behind, subgraph: sub, reader } = await aWarmSubgraphBehindAProxy(1000, 'cache-d');
    try {
      behind.proxy.setMode({ kind: 'blackhole' });
      const res = await sub.query(DECISION, { representations: [{ __typename: 'Artist', id: 'cache-d' }] }, reader);
      expect(res.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(res.data?._entities?.[0]?.consent ?? null).toBeNull();
    } finally {
      behind.proxy.setMode({ kind: 'pass' });
      await sub.stop();
      await behind.close();
    }
  }, 30_000);
});

describe('projection cache: repair and size', () => {
  let store: ConsentStore;
  beforeAll(async () => {
    store = await aFreshStore();
  });
  afterAll(() => dropStore(store));

  it('a writer that died between its commit and its announcement leaves caches behind only until the next repair sweep', async () => {
    const other = await anotherConnection(store);
    try {
      const key = subjectKey({ artistId: 'cache-e', trackId: null });
      await store.append(aSetChange('cache-e', 'AI_TRAINING'), 'setup', new Date());
      await store.projectionSettled();
      await other.cache!.refresh();
      expect((await other.statesByKeys([key])).get(key)?.[0]?.choice).toBe('ALLOW');
      // What a writer killed right after logging its commit leaves: the event in consent_events and
      // the commit in the log, but no projection and no version change. It was never acknowledged.
      const head = await store.collections.events.findOne({ _id: `${key}#1` });
      const end = await logEnd(store.collections);
      const event = nextEventDoc(aSetChange('cache-e', 'AI_TRAINING', { choice: 'DENY' }), key, 'crashed', new Date(), head, end, null);
      await store.collections.events.insertOne(event);
      expect(await insertCommits(store.collections, commitsOf([event], new Date()))).toHaveLength(1);
      expect((await other.statesByKeys([key])).get(key)?.[0]?.choice).toBe('ALLOW'); // no version change: not followed yet
      const { repaired } = await store.repairProjections(0, { staleCommitMs: 0 });
      expect(repaired).toEqual([key]);
      expect((await other.statesByKeys([key])).get(key)?.[0]?.choice).toBe('DENY');
      expect(await store.collections.events.findOne({ _id: event._id })).toMatchObject({ actor: 'crashed', seq: 2 });
      expect(await projectionMatchesHead(store, key)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('turns itself off when the log adds subjects the projection has no document for yet and takes it past CACHE_MAX_SUBJECTS', async () => {
    const own = await aFreshStore();
    try {
      await own.append(aSetChange('log-1', 'AI_TRAINING'), 'setup', new Date());
      await own.projectionSettled();
      // Two commits in the log whose projection documents are not written yet (a writer between
      // its commit and its projector): the load scans one projection document, the log adds two.
      const end = await logEnd(own.collections);
      const ids = ['log-2', 'log-3'];
      const keys = ids.map((artistId) => subjectKey({ artistId, trackId: null }));
      const events = ids.map((id, i) => nextEventDoc(aSetChange(id, 'AI_TRAINING'), keys[i]!, 'pending', new Date(), null, end + i, null));
      await own.collections.events.insertMany(events);
      expect(await insertCommits(own.collections, commitsOf(events, new Date()))).toHaveLength(1);
      const small = await openStore({ uri: mongoUri(), dbName: own.collections.events.dbName, timeoutMs: 5000, cache: { maxSubjects: 2 } });
      try {
        await small.cache!.refresh();
        expect(small.cache!.enabled).toBe(false);
        const all = [subjectKey({ artistId: 'log-1', trackId: null }), ...keys];
        const states = await small.statesByKeys(all);
        expect(all.map((key) => states.get(key)?.[0]?.choice)).toEqual(['ALLOW', 'ALLOW', 'ALLOW']);
      } finally {
        await small.close();
      }
    } finally {
      await dropStore(own);
    }
  });

  it('turns itself off when the projection outgrows CACHE_MAX_SUBJECTS, and reads the database instead', async () => {
    for (const id of ['size-1', 'size-2', 'size-3']) await store.append(aSetChange(id, 'AI_TRAINING'), 'setup', new Date());
    const small = await openStore({ uri: mongoUri(), dbName: store.collections.events.dbName, timeoutMs: 5000, cache: { maxSubjects: 2 } });
    try {
      await small.cache!.refresh();
      expect(small.cache!.enabled).toBe(false);
      const keys = ['size-1', 'size-2', 'size-3'].map((artistId) => subjectKey({ artistId, trackId: null }));
      const { result, found } = await countReads(small, () => small.statesByKeys(keys));
      expect([...result.keys()].sort()).toEqual(keys.sort());
      // The version, then the keys' projection documents, overlaid with the heads of the commits
      // the log held when the cache loaded (writes not yet projected).
      expect(found).toEqual([COLLECTION_NAMES.meta, COLLECTION_NAMES.states]);
    } finally {
      await small.close();
    }
  });
});
