import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_LIMITS } from '../../src/limits.js';
import { aClearItem, aSetItem } from '../helpers/changes.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { postGraphQL, type GraphQLResponse } from '../helpers/subgraph.js';
import { adminToken, readToken, TEST_SECRET, writeToken } from '../helpers/tokens.js';

// Mutation.changeConsents through Hive Gateway: its scopes enforced there and again in the
// subgraph, refusals passed on with their code and index, and its demand-control price letting
// one full call of 1000 changes through but not a flood of aliased calls.

const EVENT = 'id seq kind artistId trackId purpose choice termsVersion source actor at expiresAt hash prevHash';
const STATEMENT = 'statement { id artistId trackId purpose choice termsVersion source actor createdAt expiresAt }';
// Everything a payload has but the parties (priced at 21 per decision) and the track's own consent.
const PAYLOAD = `revision event { ${EVENT} } decision { purpose allowed basis scope policyVersion ${STATEMENT} } track { id }`;
const CHANGE = `mutation Change($changes: [ConsentChangeInput!]!) { changeConsents(changes: $changes) { ${PAYLOAD} } }`;
const aliased = (n: number) =>
  `mutation Flood($changes: [ConsentChangeInput!]!) { ${Array.from({ length: n }, (_, i) => `c${i}: changeConsents(changes: $changes) { revision event { id } }`).join(' ')} }`;

describe('changeConsents through Hive Gateway', () => {
  let supergraph: RunningSupergraph;
  let writer: string;
  let admin: string;
  const ledger = () => supergraph.subgraph.store.collections.events.find({}).sort({ gseq: 1 }).toArray();
  const send = (query: string, variables: Record<string, unknown>, token?: string) => postGraphQL(supergraph.url, query, variables, token);

  // Sends the operation and checks that it changed nothing and answered no data.
  async function refused(query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLResponse> {
    const before = await ledger();
    const res = await send(query, variables, token);
    expect(await ledger()).toEqual(before);
    expect(res.data?.changeConsents ?? null).toBeNull();
    expect(res.errors?.length).toBeGreaterThan(0);
    return res;
  }

  beforeAll(async () => {
    supergraph = await startSupergraph({
      catalog: {
        artists: ['own-1', 'own-2', 'guest', 'stranger'].map((id) => ({ id, name: id })),
        tracks: [
          { id: 'own-t', title: 'Own', artistId: 'own-1', featuredArtistIds: ['guest'] },
          { id: 'stranger-t', title: 'Theirs', artistId: 'stranger' },
        ],
      },
    });
    writer = await writeToken(TEST_SECRET, ['own-1', 'own-2'], 'artist-app');
    admin = await adminToken(TEST_SECRET, 'support');
  });
  afterAll(async () => {
    await supergraph?.stop();
  });

  it("lets a consent:write token change its own artists' consent, answering in input order with the tracks joined to the catalog", async () => {
    const res = await send(
      `mutation ($changes: [ConsentChangeInput!]!) {
        changeConsents(changes: $changes) {
          event { artistId trackId purpose kind actor }
          decision { allowed }
          track { id title consent { decision(purpose: VOICE_REPLICATION) { allowed parties { artistId role allowed } } } }
        }
      }`,
      {
        changes: [
          aSetItem('own-1', 'VOICE_REPLICATION', { trackId: 'own-t', credits: { mainArtistId: 'own-1', featuredArtistIds: ['guest'] } }),
          aSetItem('own-2', 'AI_TRAINING', { choice: 'DENY' }),
          aClearItem('own-1', 'ADVERTISING'),
        ],
      },
      writer,
    );

    expect(res.errors).toBeUndefined();
    const [onTrack, artistWide, cleared] = res.data.changeConsents;
    expect([onTrack.event, artistWide.event, cleared.event]).toEqual([
      { artistId: 'own-1', trackId: 'own-t', purpose: 'VOICE_REPLICATION', kind: 'SET', actor: 'artist-app' },
      { artistId: 'own-2', trackId: null, purpose: 'AI_TRAINING', kind: 'SET', actor: 'artist-app' },
      { artistId: 'own-1', trackId: null, purpose: 'ADVERTISING', kind: 'CLEAR', actor: 'artist-app' },
    ]);
    // The guest hasn't opted in: the track stays denied, by the change's credits and by the catalog's.
    const parties = [
      { artistId: 'own-1', role: 'MAIN', allowed: true },
      { artistId: 'guest', role: 'FEATURED', allowed: false },
    ];
    expect(onTrack.decision).toEqual({ allowed: false });
    expect(onTrack.track).toEqual({ id: 'own-t', title: 'Own', consent: { decision: { allowed: false, parties } } });
    expect(artistWide.track).toBeNull();
    expect(cleared.decision).toEqual({ allowed: true });
  });

  it('lets a consent:admin token change any artist', async () => {
    const res = await send(CHANGE, { changes: [aSetItem('stranger', 'AI_TRAINING', { trackId: 'stranger-t' }), aSetItem('guest', 'VOICE_REPLICATION')] }, admin);

    expect(res.errors).toBeUndefined();
    expect(res.data.changeConsents.map((p: any) => [p.event.artistId, p.event.actor, p.decision.allowed])).toEqual([
      ['stranger', 'support', true],
      ['guest', 'support', true],
    ]);
  });

  it('refuses the whole call when one change is for an artist the token does not list: FORBIDDEN with its index, nothing written', async () => {
    const changes = [aSetItem('own-1', 'AI_TRAINING'), aSetItem('own-2', 'AI_TRAINING'), aSetItem('stranger', 'AI_TRAINING'), aSetItem('own-1', 'AI_INFERENCE')];
    const res = await refused(CHANGE, { changes }, writer);

    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ message: expect.stringMatching(/^changes\[2\]\.set: "artist-app" may not manage the consent of artist "stranger"/), extensions: { code: 'FORBIDDEN', index: 2 } });
  });

  it('refuses the whole call with bad input at index k: BAD_USER_INPUT with the index, nothing written', async () => {
    const inResolver = await refused(CHANGE, { changes: [aSetItem('own-1', 'AI_TRAINING'), aClearItem('own-2', 'AI_TRAINING', { trackId: 'bad id' })] }, writer);
    expect(inResolver.errors![0]).toMatchObject({ message: expect.stringContaining('changes[1].clear: subject.trackId must be'), extensions: { code: 'BAD_USER_INPUT', index: 1 } });

    const badDateTime = await refused(CHANGE, { changes: [aSetItem('own-1', 'AI_TRAINING'), aSetItem('own-2', 'AI_TRAINING', { expiresAt: 'tomorrow' })] }, writer);
    // Only the subgraph parses a DateTime; the gateway renames the variable it passes on.
    expect(badDateTime.errors![0]).toMatchObject({ message: expect.stringMatching(/at "\w*changes\[1\]\.set\.expiresAt"/), extensions: { code: 'BAD_USER_INPUT' } });

    const unknownPurpose = await refused(CHANGE, { changes: [aSetItem('own-1', 'AI_TRAINING'), aSetItem('own-2', 'EVERYTHING')] }, writer);
    expect(unknownPurpose.errors![0]!.message).toContain('changes[1].set.purpose');
  });

  it('refuses a token without consent:write or consent:admin (FORBIDDEN) and no token (UNAUTHENTICATED)', async () => {
    const changes = [aSetItem('own-1', 'AI_TRAINING')];
    const reader = await refused(CHANGE, { changes }, await readToken());
    expect(reader.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const anonymous = await refused(CHANGE, { changes });
    expect(anonymous.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('returns the same events for a retried call and writes nothing the second time', async () => {
    const changes = [aSetItem('own-1', 'MUSIC_REPLICATION', { idempotencyKey: 'e2e-1' }), aClearItem('own-2', 'AI_TRAINING', { idempotencyKey: 'e2e-2' })];
    const first = await send(CHANGE, { changes }, writer);
    expect(first.errors).toBeUndefined();
    const before = await ledger();

    const again = await send(CHANGE, { changes }, writer);

    expect(again.errors).toBeUndefined();
    expect(await ledger()).toEqual(before);
    const events = (res: GraphQLResponse) => res.data.changeConsents.map((p: any) => [p.revision, p.event]);
    expect(events(again)).toEqual(events(first));
  });

  it('writes 1000 changes with every payload field but the parties in one call: within the gateway demand-control budget', async () => {
    const changes = Array.from({ length: REQUEST_LIMITS.maxChanges }, (_, i) =>
      i % 2 ? aSetItem(`bulk-${i}`, 'AI_TRAINING', { trackId: `bulk-t-${i}`, source: 'migration', idempotencyKey: `bulk-${i}` }) : aSetItem(`bulk-${i}`, 'GENERATIVE_AI_TRAINING', { choice: 'DENY' }),
    );
    const before = (await ledger()).length;

    const res = await send(CHANGE, { changes }, admin);

    expect(res.errors).toBeUndefined();
    const payloads = res.data.changeConsents;
    expect(payloads).toHaveLength(1000);
    expect(payloads.map((p: any) => p.event.artistId)).toEqual(changes.map((c) => c.set.subject.artistId));
    expect(payloads[999]).toMatchObject({ event: { trackId: 'bulk-t-999', source: 'migration' }, decision: { allowed: true, basis: 'EXPLICIT', scope: 'TRACK' }, track: { id: 'bulk-t-999' } });
    expect((await ledger()).length).toBe(before + 1000);
  }, 600_000);

  // The gateway sends each field of a mutation to the subgraph as a request of its own, one after
  // another: these must be refused before the first is sent, not halfway.
  it('refuses ten aliased calls by cost (COST_ESTIMATED_TOO_EXPENSIVE) before any of them runs', async () => {
    const res = await refused(aliased(10), { changes: [aSetItem('own-1', 'AI_TRAINING')] }, admin);

    expect(res.errors!.map((e) => e.extensions?.code)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
    expect(res.errors![0]!.extensions).not.toHaveProperty('serviceName');
  });

  it('refuses two aliased calls of 600 changes by the per-request cap (BAD_USER_INPUT) before any of them runs', async () => {
    const changes = Array.from({ length: 600 }, (_, i) => aSetItem(`twice-${i}`, 'AI_TRAINING'));
    const res = await refused(aliased(2), { changes }, admin);

    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({ message: expect.stringContaining('would write 1200 consent changes'), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('prices a call as 1000 changes whatever its length: every party with its statement is refused by cost', async () => {
    const withParties = `mutation ($changes: [ConsentChangeInput!]!) { changeConsents(changes: $changes) { ${PAYLOAD} decision { parties { artistId role allowed ${STATEMENT} } } } }`;
    const res = await refused(withParties, { changes: [aSetItem('own-1', 'AI_TRAINING')] }, admin);

    expect(res.errors!.map((e) => e.extensions?.code)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
  });
});
