import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CREDITED_ARTISTS } from '../../src/consent/credits.js';
import { REQUEST_LIMITS } from '../../src/limits.js';
import { aClearItem, aSetItem } from '../helpers/changes.js';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken, writeToken } from '../helpers/tokens.js';

// Bad, forbidden and oversized changeConsents calls: the whole call is refused with the code the
// single mutation would give and the failing change's index, before any database read, and the
// ledger is left exactly as it was.

const CHANGE = 'mutation ($changes: [ConsentChangeInput!]!) { changeConsents(changes: $changes) { event { id } decision { allowed } } }';
const ids = (n: number, prefix = 'x') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

// Two good changes, then `bad` at index 2, then another good one.
const around = (bad: unknown) => [aSetItem('good-1', 'AI_TRAINING'), aClearItem('good-2', 'ADVERTISING', { trackId: 'good-t' }), bad, aSetItem('good-3', 'RECOMMENDATION')];

describe('bad input to changeConsents', () => {
  let subgraph: TestSubgraph;
  let admin: string;
  const ledger = () => subgraph.store.collections.events.find({}).sort({ gseq: 1 }).toArray();

  // Runs `run` and checks that it read nothing and left the ledger as it was.
  async function refusedUnread(run: () => Promise<GraphQLResponse>): Promise<GraphQLResponse> {
    const before = await ledger();
    const { result, reads } = await countReads(subgraph.store, run);
    expect(reads).toBe(0);
    expect(await ledger()).toEqual(before);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    return result;
  }

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    admin = await adminToken();
    // A ledger to leave unchanged.
    const seeded = await subgraph.query(CHANGE, { changes: [aSetItem('good-1', 'AI_TRAINING', { choice: 'DENY' })] }, admin);
    expect(seeded.errors).toBeUndefined();
  });
  afterAll(() => subgraph?.stop());

  it.each([
    ['both set and clear', { ...aSetItem('a-1', 'AI_TRAINING'), ...aClearItem('a-1', 'AI_TRAINING') }, 'changes[2]: give exactly one of set and clear, but got both'],
    ['neither set nor clear', {}, 'changes[2]: give exactly one of set and clear, but got neither'],
    ['set and clear both null', { set: null, clear: null }, 'changes[2]: give exactly one of set and clear, but got neither'],
    ['a malformed artist id', aSetItem('a/b', 'AI_TRAINING'), 'changes[2].set: subject.artistId must be a string of 1 to 128'],
    ['an over-long track id', aClearItem('a-1', 'AI_TRAINING', { trackId: 't'.repeat(129) }), 'changes[2].clear: subject.trackId must be a string'],
    ['an id with a leading dash', aSetItem('-a', 'AI_TRAINING'), 'changes[2].set: subject.artistId must be'],
    ['a blank termsVersion', aSetItem('a-1', 'AI_TRAINING', { termsVersion: '  ' }), 'changes[2].set: termsVersion must be a non-blank string'],
    ['a source over 200 characters', aSetItem('a-1', 'AI_TRAINING', { source: 's'.repeat(201) }), 'changes[2].set: source must be a non-blank string of at most 200'],
    ['a control character in the source', aSetItem('a-1', 'AI_TRAINING', { source: 'a\u0000b' }), 'changes[2].set: source must be'],
    ['an over-long idempotency key', aClearItem('a-1', 'AI_TRAINING', { idempotencyKey: 'k'.repeat(201) }), 'changes[2].clear: idempotencyKey must be'],
    ['an expiry in the past', aSetItem('a-1', 'AI_TRAINING', { expiresAt: '2001-01-01T00:00:00Z' }), 'changes[2].set: expiresAt must be in the future'],
    ['credits on an artist-wide change', aSetItem('a-1', 'AI_TRAINING', { credits: { mainArtistId: 'a-1' } }), 'changes[2].set: credits are the credits of a track'],
    ['an artist credited twice', aClearItem('a-1', 'AI_TRAINING', { trackId: 't-1', credits: { mainArtistId: 'a-1', featuredArtistIds: ['x-1', 'x-1'] } }), 'changes[2].clear: credits.featuredArtistIds must not list an artist twice'],
    [`${MAX_CREDITED_ARTISTS + 1} credits`, aSetItem('a-1', 'AI_TRAINING', { trackId: 't-1', credits: { mainArtistId: 'a-1', originalArtistIds: ids(MAX_CREDITED_ARTISTS + 1) } }), `changes[2].set: credits: a track credits at most ${MAX_CREDITED_ARTISTS}`],
    ['a malformed credited id', aSetItem('a-1', 'AI_TRAINING', { trackId: 't-1', credits: { mainArtistId: 'a 1' } }), 'changes[2].set: credits.mainArtistId must be a string'],
  ])('refuses a call with %s at index 2: BAD_USER_INPUT, index 2, nothing read or written', async (_name, bad, message) => {
    const res = await refusedUnread(() => subgraph.query(CHANGE, { changes: around(bad) }, admin));

    expect(res.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', index: 2 });
    expect(res.errors![0]!.message).toContain(message);
  });

  it('refuses two changes of one call with the same idempotency key, at the second', async () => {
    const changes = [aSetItem('a-1', 'AI_TRAINING', { idempotencyKey: 'same' }), aSetItem('a-2', 'AI_TRAINING'), aClearItem('a-3', 'AI_TRAINING', { idempotencyKey: 'same' })];
    const res = await refusedUnread(() => subgraph.query(CHANGE, { changes }, admin));

    expect(res.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', index: 2 });
    expect(res.errors![0]!.message).toBe('changes[2].clear: idempotencyKey "same" is also the key of changes[0]; give each change of a call its own key.');
  });

  it.each([
    ['an operator object as an artist id', aSetItem('a-1', 'AI_TRAINING', { subject: { artistId: { $ne: null } } }), 'changes[2].set.subject.artistId'],
    ['an unknown purpose', aSetItem('a-1', 'FACE_SWAP'), 'changes[2].set.purpose'],
    ['an unknown choice', aSetItem('a-1', 'AI_TRAINING', { choice: 'MAYBE' }), 'changes[2].set.choice'],
    ['an expiry without an offset', aSetItem('a-1', 'AI_TRAINING', { expiresAt: '2099-01-01T00:00:00' }), 'changes[2].set.expiresAt'],
    ['an impossible expiry date', aSetItem('a-1', 'AI_TRAINING', { expiresAt: '2099-02-31T00:00:00Z' }), 'changes[2].set.expiresAt'],
    ['a missing termsVersion', aSetItem('a-1', 'AI_TRAINING', { termsVersion: null }), 'changes[2].set.termsVersion'],
    ['an unknown field', aClearItem('a-1', 'AI_TRAINING', { choice: 'ALLOW' }), 'changes[2].clear'],
    ['a list instead of a change', [aSetItem('a-1', 'AI_TRAINING')], 'changes[2]'],
  ])('refuses a call with %s at index 2 as GraphQL refuses the variable: BAD_USER_INPUT, index 2, the path in the message', async (_name, bad, path) => {
    const res = await refusedUnread(() => subgraph.query(CHANGE, { changes: around(bad) }, admin));

    expect(res.status).toBe(400);
    expect(res.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', index: 2 });
    expect(res.errors![0]!.message).toContain(`at "${path}`);
  });

  it('refuses an unknown purpose written into the query text', async () => {
    const res = await refusedUnread(() =>
      subgraph.query('mutation { changeConsents(changes: [{ clear: { subject: { artistId: "a-1" }, purpose: FACE_SWAP } }]) { event { id } } }', {}, admin),
    );
    expect(res.errors![0]!.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it("refuses a change to an artist the consent:write token doesn't list: FORBIDDEN with its index, nothing written", async () => {
    const writer = await writeToken(undefined, ['good-1', 'good-2', 'good-3']);
    const res = await refusedUnread(() => subgraph.query(CHANGE, { changes: around(aSetItem('someone-else', 'AI_TRAINING')) }, writer));

    expect(res.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', index: 2 });
    expect(res.errors![0]!.message).toBe('changes[2].set: "test-artist-app" may not manage the consent of artist "someone-else" (not in the token\'s artist_ids).');
  });

  it('reports the first refused change when several are refused', async () => {
    const writer = await writeToken(undefined, ['good-1', 'good-2', 'good-3']);
    const changes = [aSetItem('good-1', 'AI_TRAINING'), aClearItem('someone-else', 'AI_TRAINING'), aSetItem('a/b', 'AI_TRAINING')];
    const res = await refusedUnread(() => subgraph.query(CHANGE, { changes }, writer));

    expect(res.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', index: 1 });
  });

  it('refuses a token without consent:write or consent:admin (FORBIDDEN) and no token (UNAUTHENTICATED), without an index', async () => {
    const reader = await readToken();
    const forbidden = await refusedUnread(() => subgraph.query(CHANGE, { changes: [aSetItem('good-1', 'AI_TRAINING')] }, reader));
    expect(forbidden.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN' });
    const anonymous = await refusedUnread(() => subgraph.query(CHANGE, { changes: [aSetItem('good-1', 'AI_TRAINING')] }));
    expect(anonymous.errors![0]!.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  });

  it(`refuses ${REQUEST_LIMITS.maxChanges + 1} changes in one call with BAD_USER_INPUT before anything runs`, async () => {
    const changes = Array.from({ length: REQUEST_LIMITS.maxChanges + 1 }, (_, i) => aSetItem(`many-${i}`, 'AI_TRAINING'));
    const res = await refusedUnread(() => subgraph.query(CHANGE, { changes }, admin));

    expect(res.status).toBe(400);
    expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(/would write 1001 consent changes, more than the 1000 one request may/);
  });

  it('refuses aliased calls and single mutations that write more than 1000 changes together, before anything runs', async () => {
    const changes = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => aSetItem(`${prefix}-${i}`, 'AI_TRAINING'));
    const twoCalls = await refusedUnread(() =>
      subgraph.query(
        'mutation ($a: [ConsentChangeInput!]!, $b: [ConsentChangeInput!]!) { a: changeConsents(changes: $a) { revision } b: changeConsents(changes: $b) { revision } }',
        { a: changes(600, 'a'), b: changes(600, 'b') },
        admin,
      ),
    );
    const plusOne = await refusedUnread(() =>
      subgraph.query(
        'mutation ($a: [ConsentChangeInput!]!, $s: SetConsentInput!) { a: changeConsents(changes: $a) { revision } s: setConsent(input: $s) { revision } }',
        { a: changes(1000, 'c'), s: aSetItem('d', 'AI_TRAINING').set },
        admin,
      ),
    );
    for (const [res, count] of [[twoCalls, 1200], [plusOne, 1001]] as const) {
      expect(res.status).toBe(400);
      expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.message).toContain(`would write ${count} consent changes`);
    }
  });
});
