import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DECISION_REQUESTS } from '../../src/ConsentService.js';
import { aSetChange } from '../helpers/changes.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken, writeToken } from '../helpers/tokens.js';

// The service executes operations compiled by graphql-jit (src/execution/compiledExecution.ts).
// Every operation below — answers, partial errors, refusals, introspection, a mutation and its
// idempotent replay — must get a byte-identical HTTP answer from graphql-js's own executor.

const NOW = new Date('2026-06-01T12:00:00.000Z');

const ENTITIES = /* GraphQL */ `
  query Entities($representations: [_Any!]!, $asOf: DateTime, $withHistory: Boolean!) {
    _entities(representations: $representations) {
      __typename
      ... on Artist { id consent { ...consent } consentHistory(first: 2) @include(if: $withHistory) { ...page } }
      ... on Track { id earlier: consent(asOf: $asOf) { ...consent } consent { ...consent signals { cawg { label json entries { key use purpose } } tdmReservation aipref aiprefVocabulary } } }
    }
  }
  fragment consent on Consent {
    decisions { purpose allowed basis scope policyVersion statement { id artistId trackId purpose choice termsVersion source actor createdAt expiresAt } }
    voice: decision(purpose: VOICE_REPLICATION) { allowed basis }
  }
  fragment page on ConsentEventConnection {
    edges { cursor node { id seq kind artistId trackId purpose choice termsVersion source actor at expiresAt hash prevHash } }
    pageInfo { hasNextPage endCursor }
  }`;

const DECISIONS = /* GraphQL */ `
  query Decisions($requests: [DecisionRequest!]!, $purpose: ConsentPurpose!, $asOf: DateTime) {
    consentDecisions(requests: $requests, purpose: $purpose, asOf: $asOf) { purpose allowed basis scope statement { id } policyVersion }
  }`;

const FEEDS = /* GraphQL */ `
  query Feeds {
    artistsAllowing(purpose: AI_TRAINING, first: 2) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
    consentChanges(first: 3) { edges { cursor node { id seq kind purpose at } } pageInfo { hasNextPage endCursor } }
  }`;

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { revision event { id seq kind at hash prevHash } decision { purpose allowed basis scope } } }`;

const representations = [
  { __typename: 'Track', id: 'jit-t1', artist: { id: 'jit-a' } },
  { __typename: 'Artist', id: 'jit-a' },
  { __typename: 'Track', id: 'jit-t2', artist: { id: 'jit-b' } },
  { __typename: 'Artist', id: 'nobody' },
  { __typename: 'Track', id: { $ne: null }, artist: { id: 'jit-a' } },
  { __typename: 'Nope', id: 'x' },
];

describe('compiled execution (graphql-jit) answers exactly as graphql-js does', () => {
  let jit: TestSubgraph;
  let interpreted: TestSubgraph;
  let reader: string;
  let admin: string;
  let writer: string;

  beforeAll(async () => {
    jit = await startTestSubgraph({ clock: () => NOW, executor: 'jit' });
    interpreted = await startTestSubgraph({ store: jit.store, clock: () => NOW, executor: 'graphql-js' });
    [reader, admin, writer] = await Promise.all([readToken(), adminToken(), writeToken(undefined, ['jit-a'])]);
    const t = new Date(NOW.getTime() - 3_600_000);
    await jit.store.append(aSetChange('jit-a', 'GENERATIVE_AI_TRAINING'), 'setup', t);
    await jit.store.append(aSetChange('jit-a', 'VOICE_REPLICATION', { choice: 'DENY', expiresAt: new Date(NOW.getTime() + 60_000) }), 'setup', t);
    await jit.store.append(aSetChange('jit-a', 'AI_TRAINING', { trackId: 'jit-t1', choice: 'DENY' }), 'setup', new Date(t.getTime() + 1000));
    await jit.store.append(aSetChange('jit-b', 'RECOMMENDATION', { choice: 'DENY' }), 'setup', t);
  });
  afterAll(async () => {
    await interpreted.stop();
    await jit.stop();
  });

  // Posts the same request to both and returns the JIT's answer after checking they are identical.
  async function same(body: unknown, token?: string): Promise<{ status: number; json: any }> {
    const send = async (url: string) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };
    const [a, b] = [await send(jit.url), await send(interpreted.url)];
    expect(a).toEqual(b);
    return { status: a.status, json: JSON.parse(a.text) };
  }

  it('entities: decisions, statements, asOf, history, signals, aliases, fragments, directives and per-entry errors', async () => {
    const { json } = await same({ query: ENTITIES, variables: { representations, asOf: '2026-06-01T11:00:00.500Z', withHistory: true } }, reader);
    expect(json.data._entities).toHaveLength(representations.length);
    expect(json.errors?.length).toBeGreaterThanOrEqual(2);
    expect(json.data._entities[1].consent.voice).toEqual({ allowed: false, basis: 'EXPLICIT' });
    await same({ query: ENTITIES, variables: { representations: representations.slice(0, 3), withHistory: false } }, reader);
  });

  it('bulk decisions, feeds and the SDL', async () => {
    const requests = [{ artistId: 'jit-a', trackId: 'jit-t1' }, { artistId: 'jit-a' }, { artistId: 'jit-b', trackId: 'x' }, { artistId: 'nobody' }];
    const { json } = await same({ query: DECISIONS, variables: { requests, purpose: 'AI_TRAINING' } }, reader);
    expect(json.data.consentDecisions).toHaveLength(4);
    await same({ query: DECISIONS, variables: { requests, purpose: 'VOICE_REPLICATION', asOf: '2026-06-01T11:30:00Z' } }, reader);
    await same({ query: FEEDS }, reader);
    await same({ query: '{ _service { sdl } __typename }' });
  });

  it('introspection', async () => {
    const { json } = await same({ query: '{ __schema { queryType { name } types { name kind fields { name args { name defaultValue } } } } __type(name: "Consent") { fields { name type { kind ofType { name } } } } }' });
    expect(json.data.__schema.queryType.name).toBe('Query');
  });

  it('refusals: no token, a bad token, bad arguments, bad variables, too many requests, a future asOf', async () => {
    await same({ query: DECISIONS, variables: { requests: [{ artistId: 'jit-a' }], purpose: 'AI_TRAINING' } });
    await same({ query: DECISIONS, variables: { requests: [{ artistId: 'jit-a' }], purpose: 'AI_TRAINING' } }, 'not-a-jwt');
    await same({ query: DECISIONS, variables: { requests: [{ artistId: { $gt: '' } }], purpose: 'AI_TRAINING' } }, reader);
    await same({ query: DECISIONS, variables: { requests: [{ artistId: 'jit-a' }], purpose: 'MIND_READING' } }, reader);
    await same({ query: DECISIONS, variables: { requests: 'jit-a', purpose: 'AI_TRAINING' } }, reader);
    await same({ query: DECISIONS, variables: { requests: Array.from({ length: MAX_DECISION_REQUESTS + 1 }, () => ({ artistId: 'jit-a' })), purpose: 'AI_TRAINING' } }, reader);
    await same({ query: DECISIONS, variables: { requests: [{ artistId: 'jit-a' }], purpose: 'AI_TRAINING', asOf: '2999-01-01T00:00:00Z' } }, reader);
    await same({ query: DECISIONS, variables: { requests: [{ artistId: 'jit-a' }], purpose: 'AI_TRAINING', asOf: 'yesterday' } }, reader);
    await same({ query: ENTITIES, variables: { representations: Array.from({ length: 1001 }, () => representations[1]), withHistory: false } }, reader);
  });

  it('a mutation, its idempotent replay on the other executor, and a forbidden one', async () => {
    const input = { subject: { artistId: 'jit-a' }, purpose: 'MUSIC_REPLICATION', choice: 'ALLOW', termsVersion: 'tos-2', idempotencyKey: 'jit-same-change' };
    // The first answer records the event; the second is the replay of the same key: same payload.
    const { json } = await same({ query: SET, variables: { input } }, writer);
    expect(json.data.setConsent.decision).toEqual({ purpose: 'MUSIC_REPLICATION', allowed: true, basis: 'EXPLICIT', scope: 'ARTIST' });
    const before = await jit.store.collections.events.countDocuments({ artistId: 'jit-b' });
    await same({ query: SET, variables: { input: { ...input, subject: { artistId: 'jit-b' }, idempotencyKey: 'jit-forbidden' } } }, writer);
    expect(await jit.store.collections.events.countDocuments({ artistId: 'jit-b' })).toBe(before);
    await same({ query: SET, variables: { input: { ...input, idempotencyKey: 'jit-same-change', termsVersion: 'tos-3' } } }, admin);
  });
});
