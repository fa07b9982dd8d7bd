import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aSetChange } from '../helpers/changes.js';
import { anotherConnection } from '../helpers/database.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { subscribe, subscribeSse } from '../helpers/subscriptionClient.js';
import { adminToken, readToken, signToken, TEST_SECRET } from '../helpers/tokens.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';

// Withdrawals pushed through Hive Gateway: the client subscribes at the gateway (SSE), the gateway
// subscribes to the consent subgraph over graphql-ws, and the change is written on a second
// subgraph process sharing the database.

const WATCH = /* GraphQL */ `
  subscription Watch($after: String, $purposes: [ConsentPurpose!]) {
    consentChanged(after: $after, purposes: $purposes) { id artistId trackId purpose choice feedCursor }
  }`;

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { event { id } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('consentChanged through the gateway', () => {
  let supergraph: RunningSupergraph;
  let replicaStore: ConsentStore;
  let replica: TestSubgraph;
  let reader: string;
  let admin: string;

  beforeAll(async () => {
    supergraph = await startSupergraph({
      catalog: { artists: [{ id: 'push-ada', name: 'Ada' }], tracks: [{ id: 'push-ada-1', title: 'Ada One', artistId: 'push-ada' }] },
      subgraph: { subscriptions: { idleMs: 50 } },
    });
    replicaStore = await anotherConnection(supergraph.subgraph.store);
    replica = await startTestSubgraph({ store: replicaStore });
    reader = await readToken(TEST_SECRET, 'training-pipeline');
    admin = await adminToken();
  });
  afterAll(async () => {
    await replica?.stop();
    await replicaStore?.close();
    await supergraph?.stop();
  });

  const withdraw = async (purpose: string, trackId?: string) => {
    const res = await replica.query(SET, { input: { subject: { artistId: 'push-ada', trackId }, purpose, choice: 'DENY', termsVersion: 'tos-1' } }, admin);
    expect(res.errors).toBeUndefined();
    return res.data.setConsent.event.id as string;
  };

  it('pushes a withdrawal written on a second subgraph process to a gateway subscriber, and a resume from its cursor gets the next events exactly once', async () => {
    // Subscribing from the feed's current end (after one event, so there is a cursor) makes the test
    // independent of when the upstream subscription opens.
    await withdraw('ADVERTISING');
    const head = await supergraph.subgraph.query('{ consentChanges(first: 1000) { pageInfo { endCursor } } }', {}, reader);
    const sub = subscribeSse(supergraph.url, WATCH, { after: head.data.consentChanges.pageInfo.endCursor, purposes: ['VOICE_REPLICATION'] }, reader);
    let cursor: string;
    try {
      const id = await withdraw('GENERATIVE_AI_TRAINING', 'push-ada-1');
      const [message] = await sub.waitFor(1);
      expect(message!.errors).toBeUndefined();
      expect(message!.data.consentChanged).toMatchObject({ id, artistId: 'push-ada', trackId: 'push-ada-1', purpose: 'GENERATIVE_AI_TRAINING', choice: 'DENY' });
      cursor = message!.data.consentChanged.feedCursor;
    } finally {
      await sub.close();
    }
    // Written while nobody listens: the resumed subscription must deliver them, once, in order.
    const missed = [await withdraw('VOICE_REPLICATION'), await withdraw('ADVERTISING'), await withdraw('AI_TRAINING')];
    const resumed = subscribeSse(supergraph.url, WATCH, { after: cursor, purposes: ['VOICE_REPLICATION'] }, reader);
    try {
      const messages = await resumed.waitFor(2);
      expect(messages.map((m) => m.data.consentChanged.id)).toEqual([missed[0], missed[2]]);
      await sleep(500);
      expect(resumed.messages).toHaveLength(2);
    } finally {
      await resumed.close();
    }
  });

  it('refuses a token without consent:read at the gateway with FORBIDDEN', async () => {
    const token = await signToken(TEST_SECRET, { sub: 'no-read', scope: 'consent:write', artist_ids: [] });
    const sub = subscribeSse(supergraph.url, WATCH, {}, token);
    try {
      const [message] = await sub.waitFor(1);
      expect(message!.data?.consentChanged ?? null).toBeNull();
      expect(message!.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    } finally {
      await sub.close();
    }
  });

  it('refuses a subscription without a token at the gateway with UNAUTHENTICATED', async () => {
    const sub = subscribeSse(supergraph.url, WATCH, {});
    try {
      const [message] = await sub.waitFor(1);
      expect(message!.data?.consentChanged ?? null).toBeNull();
      expect(message!.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
    } finally {
      await sub.close();
    }
  });
});

describe('consentChanged through a gateway that signs upstream requests', () => {
  const SECRET = 'gateway-hmac-secret-that-is-long-enough';
  let supergraph: RunningSupergraph;

  beforeAll(async () => {
    supergraph = await startSupergraph({
      catalog: { artists: [], tracks: [] },
      hmacSecret: SECRET,
      subgraph: { gatewaySignatureSecret: SECRET, subscriptions: { idleMs: 50 } },
    });
  });
  afterAll(() => supergraph?.stop());

  it('is accepted by a subgraph that requires the gateway signature, while an unsigned direct subscription is refused', async () => {
    const reader = await readToken();
    const sub = subscribeSse(supergraph.url, WATCH, {}, reader);
    const direct = subscribe(supergraph.subgraph.url, WATCH, {}, { token: reader });
    try {
      await sleep(1000);
      await supergraph.subgraph.store.append(aSetChange('push-signed', 'AI_TRAINING', { choice: 'DENY' }), 'test', new Date());
      const [message] = await sub.waitFor(1);
      expect(message!.data.consentChanged.artistId).toBe('push-signed');
      const [refused] = await direct.waitFor(1);
      expect(refused!.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
    } finally {
      await sub.close();
      await direct.close();
    }
  });
});
