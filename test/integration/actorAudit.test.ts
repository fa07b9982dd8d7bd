import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aTrackRef, anArtistRef } from '../helpers/representations.js';
import { startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, auditToken, readToken, writeToken } from '../helpers/tokens.js';

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { event { seq actor } decision { statement { actor } } } }`;
const CLEAR = /* GraphQL */ `
  mutation Clear($input: ClearConsentInput!) { clearConsent(input: $input) { event { seq actor } decision { basis scope statement { id actor } } } }`;
const HISTORIES = /* GraphQL */ `
  query Histories($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Artist { consentHistory(first: 10) { edges { node { seq actor } } } }
      ... on Track {
        consentHistory(first: 10) { edges { node { seq actor } } }
        consent { decision(purpose: VOICE_REPLICATION) { basis statement { id actor } } }
      }
    }
  }`;
const FEED = /* GraphQL */ `{ consentChanges(first: 10) { edges { node { artistId seq actor } } } }`;
const DECISIONS = /* GraphQL */ `
  query Decisions($requests: [DecisionRequest!]!) {
    consentDecisions(requests: $requests, purpose: VOICE_REPLICATION) { basis statement { id actor } }
  }`;

// Who the ledger records: support (support-9, an admin) set the artist-wide AI_TRAINING DENY; the
// artist's app (nova-app) set, then cleared, VOICE_REPLICATION on the track.
const SUPPORT = 'support-9';
const APP = 'nova-app';

describe('actor ids are for consent:audit', () => {
  let subgraph: TestSubgraph;
  let tokens: { reader: string; auditor: string; app: string };
  let cleared: GraphQLResponse;

  const actorsSeenBy = async (token: string) => {
    const histories = await subgraph.query(HISTORIES, { representations: [anArtistRef('a-aud'), aTrackRef('t-aud', 'a-aud')] }, token);
    const feed = await subgraph.query(FEED, {}, token);
    const decisions = await subgraph.query(DECISIONS, { requests: [{ artistId: 'a-aud', trackId: 't-aud' }] }, token);
    for (const res of [histories, feed, decisions]) expect(res.errors).toBeUndefined();
    const [artist, track] = histories.data._entities;
    return {
      artistHistory: artist.consentHistory.edges.map((e: any) => e.node.actor),
      trackHistory: track.consentHistory.edges.map((e: any) => e.node.actor),
      feed: feed.data.consentChanges.edges.map((e: any) => e.node.actor),
      entityStatement: track.consent.decision.statement,
      decisionsStatement: decisions.data.consentDecisions[0].statement,
    };
  };

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    tokens = { reader: await readToken(), auditor: await auditToken(), app: await writeToken(undefined, ['a-aud'], APP) };
    const support = await adminToken(undefined, SUPPORT);
    const subject = { artistId: 'a-aud', trackId: 't-aud' };
    expect((await subgraph.query(SET, { input: { subject: { artistId: 'a-aud' }, purpose: 'AI_TRAINING', choice: 'DENY', termsVersion: 'tos-1' } }, support)).errors).toBeUndefined();
    expect((await subgraph.query(SET, { input: { subject, purpose: 'VOICE_REPLICATION', choice: 'ALLOW', termsVersion: 'tos-1' } }, tokens.app)).errors).toBeUndefined();
    cleared = await subgraph.query(CLEAR, { input: { subject, purpose: 'VOICE_REPLICATION' } }, tokens.app);
    expect(cleared.errors).toBeUndefined();
  });
  afterAll(() => subgraph?.stop());

  it('gives a consent:read caller every event and statement with actor null, and no error', async () => {
    const seen = await actorsSeenBy(tokens.reader);
    expect(seen.artistHistory).toEqual([null]);
    expect(seen.trackHistory).toEqual([null, null]);
    expect(seen.feed).toEqual([null, null, null]);
    // The statement itself is still there: only who made it is withheld.
    expect(seen.entityStatement).toEqual({ id: expect.any(String), actor: null });
    expect(seen.decisionsStatement).toEqual({ id: seen.entityStatement.id, actor: null });
  });

  it('gives a consent:audit caller every actor id', async () => {
    const seen = await actorsSeenBy(tokens.auditor);
    expect(seen.artistHistory).toEqual([SUPPORT]);
    expect(seen.trackHistory).toEqual([APP, APP]);
    expect(seen.feed).toEqual([SUPPORT, APP, APP]);
    expect(seen.entityStatement.actor).toBe(SUPPORT);
    expect(seen.decisionsStatement.actor).toBe(SUPPORT);
  });

  it("shows a caller without consent:audit its own changes' actor and nobody else's", async () => {
    const seen = await actorsSeenBy(tokens.app);
    expect(seen.trackHistory).toEqual([APP, APP]);
    expect(seen.feed).toEqual([null, APP, APP]);
    expect(seen.entityStatement.actor).toBeNull();
  });

  it("shows a change's own caller in its payload, but not the actor of a statement someone else made", () => {
    // Clearing the track's VOICE_REPLICATION falls back to support's artist-wide AI_TRAINING DENY.
    expect(cleared.data.clearConsent.event).toEqual({ seq: 2, actor: APP });
    expect(cleared.data.clearConsent.decision).toMatchObject({ basis: 'INHERITED', scope: 'ARTIST', statement: { actor: null } });
  });
});
