import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken } from '../helpers/tokens.js';

// Bad input to the consent subgraph: every case gets an error with extensions.code, and the
// ledger is left exactly as it was.

const SET = 'mutation ($input: SetConsentInput!) { setConsent(input: $input) { event { id } } }';
const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Track { id consent { decisions { allowed } } } } }';
const valid = { subject: { artistId: 'a-bad' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1' };

describe('bad input to the consent subgraph', () => {
  let subgraph: TestSubgraph;
  let admin: string;
  let reader: string;
  const ledgerSize = () => subgraph.store.collections.events.countDocuments({});

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    admin = await adminToken();
    reader = await readToken();
  });
  afterAll(() => subgraph.stop());

  it.each([
    ['an unknown purpose', { ...valid, purpose: 'FACE_SWAP' }, 'BAD_USER_INPUT'],
    ['a missing termsVersion', { ...valid, termsVersion: undefined }, 'BAD_USER_INPUT'],
    ['a blank termsVersion', { ...valid, termsVersion: ' ' }, 'BAD_USER_INPUT'],
    ['a malformed artist id', { ...valid, subject: { artistId: 'a/b' } }, 'BAD_USER_INPUT'],
    ['an over-long track id', { ...valid, subject: { artistId: 'a-bad', trackId: 't'.repeat(200) } }, 'BAD_USER_INPUT'],
    ['an expiry in the past', { ...valid, expiresAt: '2001-01-01T00:00:00Z' }, 'BAD_USER_INPUT'],
    ['an expiry without an offset', { ...valid, expiresAt: '2099-01-01T00:00:00' }, 'BAD_USER_INPUT'],
  ])('refuses setConsent with %s and writes nothing', async (_name, input, code) => {
    const before = await ledgerSize();
    const res = await subgraph.query(SET, { input }, admin);
    expect(res.data?.setConsent ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe(code);
    expect(await ledgerSize()).toBe(before);
  });

  it('refuses an unknown purpose written into the query itself', async () => {
    const res = await subgraph.query(
      'mutation { setConsent(input: { subject: { artistId: "a-bad" }, purpose: FACE_SWAP, choice: ALLOW, termsVersion: "t" }) { event { id } } }',
      {},
      admin,
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it.each([
    ['an operator object as the track id', { __typename: 'Track', id: { $ne: null }, artist: { id: 'a-1' } }],
    ['an operator object as the artist id', { __typename: 'Track', id: 't-1', artist: { id: { $gt: '' } } }],
    ['a missing artist', { __typename: 'Track', id: 't-1' }],
    ['a numeric id', { __typename: 'Track', id: 7, artist: { id: 'a-1' } }],
    ['an unknown __typename', { __typename: 'Playlist', id: 'p-1' }],
    ['no __typename at all', { id: 't-1', artist: { id: 'a-1' } }],
  ])('refuses a representation with %s, without reading the database', async (_name, representation) => {
    const { result, reads } = await countReads(subgraph.store, () => subgraph.query(ENTITIES, { r: [representation] }, reader));
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(result.data ?? {})).not.toContain('"allowed":true');
    expect(reads).toBe(0);
  });

  it('answers the valid representations of a batch and errors only the invalid one', async () => {
    const res = await subgraph.query(ENTITIES, {
      r: [
        { __typename: 'Track', id: 't-ok', artist: { id: 'a-1' } },
        { __typename: 'Track', id: { $ne: null }, artist: { id: 'a-1' } },
      ],
    }, reader);
    expect(res.data._entities[0].consent.decisions).toHaveLength(9);
    expect(res.data._entities[1]).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.path).toEqual(['_entities', 1]);
  });

  it('refuses more than 1000 representations with BAD_USER_INPUT before reading anything', async () => {
    const r = Array.from({ length: 1001 }, (_, i) => ({ __typename: 'Track', id: `t-${i}`, artist: { id: 'a-1' } }));
    const { result, reads } = await countReads(subgraph.store, () => subgraph.query(ENTITIES, { r }, reader));
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/at most 1000 representations/);
    expect(reads).toBe(0);
  });
});
