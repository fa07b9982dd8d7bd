import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Purpose } from '../../src/consent/purposes.js';
import { aSetChange } from '../helpers/changes.js';
import { anotherConnection } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { subscribe } from '../helpers/subscriptionClient.js';
import { auditToken, readToken, signToken, TEST_SECRET } from '../helpers/tokens.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';

const WATCH = /* GraphQL */ `
  subscription Watch($after: String, $purposes: [ConsentPurpose!]) {
    consentChanged(after: $after, purposes: $purposes) { id artistId purpose kind actor feedCursor }
  }`;

const FEED = /* GraphQL */ `
  query Feed($after: String) { consentChanges(after: $after, first: 1000) { edges { cursor node { id feedCursor } } pageInfo { endCursor } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Subscription.consentChanged over graphql-ws', () => {
  let subgraph: TestSubgraph;
  let replica: TestSubgraph;
  let replicaStore: ConsentStore;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph({ subscriptions: { idleMs: 50 } });
    // A second process on the same database, with its own connection: writes there must reach subscribers here.
    replicaStore = await anotherConnection(subgraph.store);
    replica = await startTestSubgraph({ store: replicaStore });
    reader = await readToken();
  });
  afterAll(async () => {
    await replica?.stop();
    await replicaStore?.close();
    await subgraph?.stop();
  });

  const write = (store: ConsentStore, artistId: string, purpose: Purpose) => store.append(aSetChange(artistId, purpose), 'test-writer', new Date());
  const headCursor = async () => (await subgraph.query(FEED, {}, reader)).data.consentChanges.pageInfo.endCursor as string | null;

  it('pushes a change written on another replica to a subscriber with no cursor, with its feedCursor and the actor hidden from a reader', async () => {
    const sub = subscribe(subgraph.url, WATCH, {}, { token: reader });
    try {
      await sleep(1000); // the subscription is open once its head is read
      await write(replicaStore, 'sub-replica', 'AI_TRAINING');
      const [message] = await sub.waitFor(1);
      expect(message!.errors).toBeUndefined();
      expect(message!.data.consentChanged).toMatchObject({ artistId: 'sub-replica', purpose: 'AI_TRAINING', kind: 'SET', actor: null });
      const feed = await subgraph.query(FEED, {}, reader);
      const last = feed.data.consentChanges.edges.at(-1);
      expect(message!.data.consentChanged.feedCursor).toBe(last.cursor);
      expect(last.node.feedCursor).toBe(last.cursor);
    } finally {
      await sub.close();
    }
  });

  it('shows the actor to an auditor, as queries do', async () => {
    const after = await headCursor();
    await write(subgraph.store, 'sub-audit', 'ADVERTISING');
    const sub = subscribe(subgraph.url, WATCH, { after }, { token: await auditToken() });
    try {
      const [message] = await sub.waitFor(1);
      expect(message!.data.consentChanged).toMatchObject({ artistId: 'sub-audit', actor: 'test-writer' });
    } finally {
      await sub.close();
    }
  });

  it('accepts the token from the upgrade request Authorization header too', async () => {
    const after = await headCursor();
    await write(subgraph.store, 'sub-header', 'ADVERTISING');
    const sub = subscribe(subgraph.url, WATCH, { after }, { headerToken: reader });
    try {
      const [message] = await sub.waitFor(1);
      expect(message!.data.consentChanged.artistId).toBe('sub-header');
    } finally {
      await sub.close();
    }
  });

  it('delivers every event exactly once and in feed order across reconnects while replicas write concurrently', async () => {
    const start = await headCursor();
    const WRITERS = 4;
    const PER_WRITER = 25;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < PER_WRITER; i++) await write(w % 2 === 0 ? subgraph.store : replicaStore, `sub-c${(w + i) % 3}`, i % 2 === 0 ? 'AI_TRAINING' : 'ADVERTISING');
    });
    const received: Array<{ id: string; feedCursor: string }> = [];
    let cursor = start;
    let reconnects = 0;
    const allWritten = Promise.all(writers);
    let done = false;
    void allWritten.then(() => (done = true));
    // Reconnect after every few events, resuming from the last event's cursor.
    while (!done || received.length < WRITERS * PER_WRITER) {
      const sub = subscribe(subgraph.url, WATCH, { after: cursor }, { token: reader });
      try {
        const wanted = Math.min(7, WRITERS * PER_WRITER - received.length);
        const messages = await sub.waitFor(wanted, 20_000);
        for (const message of messages) {
          expect(message.errors).toBeUndefined();
          received.push(message.data.consentChanged);
          cursor = message.data.consentChanged.feedCursor;
        }
      } finally {
        await sub.close();
      }
      reconnects++;
      if (reconnects > 200) break;
    }
    await allWritten;
    const feed = await subgraph.query(FEED, { after: start }, reader);
    const expected = feed.data.consentChanges.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(expected).toHaveLength(WRITERS * PER_WRITER);
    expect(received.map((e) => e.id)).toEqual(expected);
    expect(reconnects).toBeGreaterThan(5);
  });

  it('keeps events about the purposes asked for, their ancestors and their descendants, and resumes past the rest', async () => {
    const after = await headCursor();
    const purposes: Purpose[] = ['AI_TRAINING', 'NON_GENERATIVE_AI_TRAINING', 'GENERATIVE_AI_TRAINING', 'VOICE_REPLICATION', 'MUSIC_REPLICATION', 'ADVERTISING', 'AI_INFERENCE'];
    for (const purpose of purposes) await write(subgraph.store, 'sub-purpose', purpose);
    const voice = subscribe(subgraph.url, WATCH, { after, purposes: ['VOICE_REPLICATION'] }, { token: reader });
    const ads = subscribe(subgraph.url, WATCH, { after, purposes: ['ADVERTISING', 'NON_GENERATIVE_AI_TRAINING'] }, { token: reader });
    try {
      const voiceMessages = await voice.waitFor(3);
      expect(voiceMessages.map((m) => m.data.consentChanged.purpose)).toEqual(['AI_TRAINING', 'GENERATIVE_AI_TRAINING', 'VOICE_REPLICATION']);
      const adsMessages = await ads.waitFor(3);
      expect(adsMessages.map((m) => m.data.consentChanged.purpose)).toEqual(['AI_TRAINING', 'NON_GENERATIVE_AI_TRAINING', 'ADVERTISING']);
      // Nothing else arrives: the filtered-out events are skipped, not delayed.
      await write(subgraph.store, 'sub-purpose', 'VOICE_REPLICATION');
      const [, , , fourth] = await voice.waitFor(4);
      expect(fourth!.data.consentChanged.purpose).toBe('VOICE_REPLICATION');
      expect(ads.messages).toHaveLength(3);
    } finally {
      await voice.close();
      await ads.close();
    }
  });

  it('shares one result per event among subscribers of an operation, yet each caller sees the actor only where queries would show it', async () => {
    // One event's result is executed once per operation and visibility class (sharedExecution.ts):
    // readers subscribed before and after the actor itself, with other cursors and filters, must
    // still get null; the actor its own id on its own change only; the auditor every actor.
    const after = await headCursor();
    const self = await signToken(TEST_SECRET, { sub: 'test-writer', scope: 'consent:read' });
    const opened = [
      { who: 'reader first', sub: subscribe(subgraph.url, WATCH, {}, { token: reader }) },
      { who: 'actor', sub: subscribe(subgraph.url, WATCH, {}, { token: self }) },
      { who: 'auditor', sub: subscribe(subgraph.url, WATCH, {}, { token: await auditToken() }) },
      { who: 'reader after', sub: subscribe(subgraph.url, WATCH, { after, purposes: ['AI_TRAINING'] }, { token: reader }) },
      { who: 'other subject', sub: subscribe(subgraph.url, WATCH, {}, { token: await readToken(TEST_SECRET, 'someone-else') }) },
    ];
    try {
      await sleep(1000);
      await replicaStore.append(aSetChange('sub-share', 'AI_TRAINING'), 'test-writer', new Date());
      await replicaStore.append(aSetChange('sub-share', 'AI_TRAINING'), 'someone-else', new Date());
      const seen = Object.fromEntries(
        await Promise.all(opened.map(async ({ who, sub }) => [who, (await sub.waitFor(2)).map((m) => (expect(m.errors).toBeUndefined(), [m.data.consentChanged.artistId, m.data.consentChanged.actor]))])),
      );
      expect(seen).toEqual({
        'reader first': [['sub-share', null], ['sub-share', null]],
        actor: [['sub-share', 'test-writer'], ['sub-share', null]],
        auditor: [['sub-share', 'test-writer'], ['sub-share', 'someone-else']],
        'reader after': [['sub-share', null], ['sub-share', null]],
        'other subject': [['sub-share', null], ['sub-share', 'someone-else']],
      });
    } finally {
      await Promise.all(opened.map(({ sub }) => sub.close()));
    }
  });

  it('delivers one change made on a replica to 30 subscribers at once', async () => {
    const server = { token: await signToken(TEST_SECRET, { sub: 'many', scope: 'consent:read' }) };
    const subs = Array.from({ length: 30 }, () => subscribe(subgraph.url, WATCH, {}, server));
    try {
      await sleep(1000);
      await write(replicaStore, 'sub-many', 'AI_INFERENCE');
      const all = await Promise.all(subs.map((s) => s.waitFor(1)));
      expect(all.every(([m]) => m!.data.consentChanged.artistId === 'sub-many')).toBe(true);
    } finally {
      await Promise.all(subs.map((s) => s.close()));
    }
  });
});
