import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/consent/cursor.js';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken, signToken, TEST_SECRET } from '../helpers/tokens.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const FUTURE = '2999-01-01T00:00:00Z';

describe('bad input to history, point-in-time, feed, bulk and listing fields', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
  });
  afterAll(() => subgraph.stop());

  // Every bad input fails with BAD_USER_INPUT and a message naming the rule, before any database read.
  async function expectRefused(query: string, variables: Record<string, unknown>, message: RegExp, token: string | undefined = reader) {
    const { result, reads } = await countReads(subgraph.store, () => subgraph.query(query, variables, token));
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(message);
    expect(reads).toBe(0);
    return result;
  }

  const FEED = `query($after: String, $first: Int) { consentChanges(after: $after, first: $first) { edges { cursor } pageInfo { hasNextPage endCursor } } }`;
  const LIST = `query($after: String, $first: Int) { artistsAllowing(purpose: AI_TRAINING, after: $after, first: $first) { edges { cursor } } }`;
  const DECISIONS = `query($requests: [DecisionRequest!]!, $asOf: DateTime) { consentDecisions(requests: $requests, purpose: AI_TRAINING, asOf: $asOf) { allowed } }`;
  const HISTORY = `query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) { ... on Artist { id consentHistory(first: $first, after: $after) { edges { cursor } } } ... on Track { id consentHistory(first: $first, after: $after) { edges { cursor } } } } }`;
  const AS_OF = `query($r: [_Any!]!, $asOf: DateTime) { _entities(representations: $r) { ... on Artist { consent(asOf: $asOf) { decisions { allowed } } } ... on Track { consent(asOf: $asOf) { decisions { allowed } } } } }`;
  const artist = { __typename: 'Artist', id: 'a-1' };

  it.each([
    ['first above the cap', { first: 1001 }, /first must be an integer from 1 to 1000/],
    ['first of zero', { first: 0 }, /first must be an integer from 1 to 1000/],
    ['a negative first', { first: -5 }, /first must be an integer from 1 to 1000/],
    ['a made-up cursor', { after: 'abc' }, /after must be an endCursor or cursor returned by this field \(feed cursor\)/],
    ['a raw gseq as cursor', { after: '12' }, /feed cursor/],
    ['a history cursor', { after: encodeCursor('history', 3) }, /feed cursor/],
    ['a forged cursor with an operator', { after: b64('g:{"$gt":0}') }, /feed cursor/],
    ['a forged cursor at zero', { after: b64('g:0') }, /feed cursor/],
  ])('consentChanges refuses %s', async (_name, variables, message) => {
    await expectRefused(FEED, variables, message);
  });

  it.each([
    ['first above the cap', { first: 1001 }, /first must be an integer from 1 to 1000/],
    ['a feed cursor', { after: encodeCursor('feed', 3) }, /artists cursor/],
    ['a cursor holding a malformed id', { after: b64('a:{"$ne":null}') }, /artists cursor/],
  ])('artistsAllowing refuses %s', async (_name, variables, message) => {
    await expectRefused(LIST, variables, message);
  });

  it('consentDecisions refuses 1001 requests before reading anything', async () => {
    const requests = Array.from({ length: 1001 }, (_, i) => ({ artistId: `a-${i}` }));
    await expectRefused(DECISIONS, { requests }, /at most 1000 requests per call, but got 1001/);
  });

  it.each([
    ['an operator object as artist id', [{ artistId: 'ok' }, { artistId: { $ne: null } }], /./],
    ['an empty artist id', [{ artistId: '' }], /requests\[0\]\.artistId must be a string of 1 to 128/],
    ['a track id with a slash', [{ artistId: 'a-1', trackId: '../x' }], /requests\[0\]\.trackId must be/],
  ])('consentDecisions refuses %s', async (_name, requests, message) => {
    await expectRefused(DECISIONS, { requests }, message);
  });

  it('consentDecisions refuses an asOf in the future', async () => {
    await expectRefused(DECISIONS, { requests: [{ artistId: 'a-1' }], asOf: FUTURE }, /asOf must not be later than now/);
  });

  it.each([
    ['without an offset', '2026-01-01T00:00:00'],
    ['as a date only', '2026-01-01'],
    ['as a number string', '1700000000000'],
  ])('refuses an asOf %s', async (_name, asOf) => {
    await expectRefused(DECISIONS, { requests: [{ artistId: 'a-1' }], asOf }, /DateTime must be an ISO-8601 string with an offset/);
  });

  it('consent(asOf) in the future errors on that field and reads nothing', async () => {
    const res = await expectRefused(AS_OF, { r: [artist], asOf: FUTURE }, /asOf must not be later than now/);
    expect(res.data._entities[0]).toEqual({ consent: null });
  });

  it.each([
    ['first above the cap', { first: 101 }, /first must be an integer from 1 to 100/],
    ['a feed cursor', { after: encodeCursor('feed', 1) }, /history cursor/],
    ['a made-up cursor', { after: 'not-a-cursor!' }, /history cursor/],
  ])('consentHistory refuses %s', async (_name, variables, message) => {
    await expectRefused(HISTORY, { r: [artist], ...variables }, message);
  });

  it('consentHistory of a track without its artist is refused', async () => {
    await expectRefused(HISTORY, { r: [{ __typename: 'Track', id: 't-1' }] }, /Track\.artist\.id must be/);
  });

  it.each([
    ['consentChanges', FEED, {}],
    ['artistsAllowing', LIST, {}],
    ['consentDecisions', DECISIONS, { requests: [{ artistId: 'a-1' }] }],
  ])('%s needs a token with consent:read', async (_name, query, variables) => {
    const anonymous = await subgraph.query(query, variables);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const writerOnly = await signToken(TEST_SECRET, { sub: 'w', scope: 'consent:write', artist_ids: ['a-1'] });
    const forbidden = await subgraph.query(query, variables, writerOnly);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(forbidden.data ?? null).toBeNull();
  });
});
