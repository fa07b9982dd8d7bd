import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNumericCursor, encodeCursor } from '../../src/consent/cursor.js';
import { FeedStreamEndedError } from '../../src/errors.js';
import { ChangeFeedHub, type FeedItem } from '../../src/subscriptions/ChangeFeedHub.js';
import { aSetChange } from '../helpers/changes.js';
import { aFreshStore, dropStore } from '../helpers/database.js';
import { aStoreBehindFaultProxy, type StoreBehindFaultProxy } from '../helpers/faultProxy.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { subscribe } from '../helpers/subscriptionClient.js';
import { readToken } from '../helpers/tokens.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';

const WATCH = /* GraphQL */ `
  subscription Watch($after: String) { consentChanged(after: $after) { id artistId feedCursor } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const write = (store: ConsentStore, artistId: string) => store.append(aSetChange(artistId, 'AI_TRAINING'), 'test-writer', new Date());

describe('a subscriber that falls behind', () => {
  let store: ConsentStore;
  let hub: ChangeFeedHub;

  beforeAll(async () => {
    store = await aFreshStore();
    hub = new ChangeFeedHub(store, { bufferSize: 5, idleMs: 20 });
  });
  afterAll(async () => {
    hub.close();
    await dropStore(store);
  });

  it('is ended with SUBSCRIBER_TOO_SLOW and the cursor of the last event it took, while a subscriber keeping up gets every event', async () => {
    const slow = await hub.subscribe(null, () => true);
    const fast = await hub.subscribe(null, () => true);
    const fastSeen: number[] = [];
    const fastDone = (async () => {
      for await (const item of fast) {
        if (item instanceof Error) throw item;
        fastSeen.push(item.gseq);
        if (fastSeen.length === 11) return;
      }
    })();
    await write(store, 'slow-1');
    const first = (await slow.next()).value as FeedItem;
    expect(first).not.toBeInstanceOf(Error);
    const firstGseq = (first as { gseq: number }).gseq;
    // The slow subscriber takes nothing more while ten events land: more than its buffer of five.
    for (let i = 2; i <= 11; i++) await write(store, `slow-${i}`);
    await fastDone;
    expect(fastSeen).toEqual(Array.from({ length: 11 }, (_, i) => firstGseq + i));
    const ended = (await slow.next()).value as FeedItem;
    expect(ended).toBeInstanceOf(FeedStreamEndedError);
    expect((ended as FeedStreamEndedError).code).toBe('SUBSCRIBER_TOO_SLOW');
    expect((ended as FeedStreamEndedError).cursor).toBe(encodeCursor('feed', firstGseq));
    expect((await slow.next()).done).toBe(true);
    // Resuming from that cursor gives the events it missed, from the next one on.
    const resumed = await hub.subscribe(decodeNumericCursor((ended as FeedStreamEndedError).cursor, 'feed'), () => true);
    const next = (await resumed.next()).value as { gseq: number };
    expect(next.gseq).toBe(firstGseq + 1);
    await resumed.return?.();
    await fast.return?.();
  });
});

describe('a crowd of subscribers joining at once', () => {
  let store: ConsentStore;

  beforeAll(async () => {
    store = await aFreshStore();
    for (let i = 0; i < 3; i++) await write(store, `crowd-${i}`);
  });
  afterAll(() => dropStore(store));

  it('costs one head read for 200 subscribers from now and one catch-up read for 200 resuming from one cursor, and each gets the next event', async () => {
    const reads = { head: 0, after: new Map<number, number>() };
    const source = {
      latestGseq: () => (reads.head++, store.latestGseq()),
      changesAfter: (after: number, first: number) => (reads.after.set(after, (reads.after.get(after) ?? 0) + 1), store.changesAfter(after, first)),
    };
    const hub = new ChangeFeedHub(source, { idleMs: 20 });
    try {
      const fromNow = await Promise.all(Array.from({ length: 200 }, () => hub.subscribe(null, () => true)));
      const resuming = await Promise.all(Array.from({ length: 200 }, () => hub.subscribe(1, () => true)));
      const firsts = Promise.all([...fromNow, ...resuming].map((subscription) => subscription.next()));
      await write(store, 'crowd-next');
      const items = (await firsts).map((result) => result.value as FeedItem);
      expect(items.slice(0, 200).every((item) => !(item instanceof Error) && item.gseq === 4)).toBe(true);
      expect(items.slice(200).every((item) => !(item instanceof Error) && item.gseq === 2)).toBe(true);
      expect(reads.head).toBe(1);
      // From position 1: one shared catch-up read; everything else is the one poller's.
      expect(reads.after.get(1)).toBe(1);
    } finally {
      hub.close();
    }
  });
});

describe('the database going away under a subscription', () => {
  let db: StoreBehindFaultProxy;
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    db = await aStoreBehindFaultProxy(1000);
    subgraph = await startTestSubgraph({ store: db.store, subscriptions: { idleMs: 50 } });
    reader = await readToken();
  });
  afterAll(async () => {
    db?.proxy.setMode({ kind: 'pass' });
    await subgraph?.stop();
    await db?.close();
  });

  it('ends the stream with SERVICE_UNAVAILABLE carrying the cursor to resume from, and resuming there loses nothing', async () => {
    const sub = subscribe(subgraph.url, WATCH, {}, { token: reader });
    await sleep(300);
    await write(db.direct, 'down-1');
    const [first] = await sub.waitFor(1);
    const cursor = first!.data.consentChanged.feedCursor as string;

    db.proxy.setMode({ kind: 'blackhole' });
    db.proxy.dropConnections();
    // Written while the subscriber's replica can't read: it must arrive after the resume, not vanish.
    await write(db.direct, 'down-2');
    const [, failed] = await sub.waitFor(2, 15_000);
    expect(failed!.data).toBeNull();
    expect(failed!.errors).toEqual([expect.objectContaining({ extensions: { code: 'SERVICE_UNAVAILABLE', cursor } })]);
    await sub.waitForComplete();
    await sub.close();

    db.proxy.setMode({ kind: 'pass' });
    const resumed = subscribe(subgraph.url, WATCH, { after: cursor }, { token: reader });
    try {
      const [next] = await resumed.waitFor(1, 15_000);
      expect(next!.data.consentChanged.artistId).toBe('down-2');
    } finally {
      await resumed.close();
    }
  });
});
