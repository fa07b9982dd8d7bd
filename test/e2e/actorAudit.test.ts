import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { postGraphQL } from '../helpers/subgraph.js';
import { adminToken, auditToken, readToken, TEST_SECRET, writeToken } from '../helpers/tokens.js';

// Who sees actor ids, as a client sees it through Hive Gateway: the field carries no
// @requiresScopes, so the gateway passes it and the subgraph answers null without consent:audit.

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { event { actor } } }`;
const TRACK = /* GraphQL */ `
  {
    tracks(ids: ["aa-1"]) {
      title
      consent { decision(purpose: VOICE_REPLICATION) { allowed scope statement { choice actor } } }
      consentHistory(first: 5) { edges { node { seq actor } } }
      artist { name consentHistory(first: 5) { edges { node { seq actor } } } }
    }
    consentChanges(first: 10) { edges { node { artistId actor } } }
    consentDecisions(requests: [{ artistId: "aa-artist", trackId: "aa-1" }], purpose: VOICE_REPLICATION) { statement { actor } }
  }`;

describe('actor ids through Hive Gateway', () => {
  let supergraph: RunningSupergraph;
  let setByApp: { actor: string | null };

  beforeAll(async () => {
    supergraph = await startSupergraph({
      catalog: { artists: [{ id: 'aa-artist', name: 'Ada Audit' }], tracks: [{ id: 'aa-1', title: 'Audited One', artistId: 'aa-artist' }] },
    });
    const set = async (input: Record<string, unknown>, token: string) => {
      const res = await postGraphQL(supergraph.url, SET, { input: { termsVersion: 'tos-1', ...input } }, token);
      expect(res.errors).toBeUndefined();
      return res.data.setConsent.event;
    };
    await set({ subject: { artistId: 'aa-artist' }, purpose: 'AI_TRAINING', choice: 'DENY' }, await adminToken(TEST_SECRET, 'support-2'));
    setByApp = await set({ subject: { artistId: 'aa-artist', trackId: 'aa-1' }, purpose: 'VOICE_REPLICATION', choice: 'ALLOW' }, await writeToken(TEST_SECRET, ['aa-artist'], 'ada-app'));
  });
  afterAll(async () => {
    await supergraph?.stop();
  });

  it('answers a consent:read caller in full, with every actor null and no error', async () => {
    const res = await postGraphQL(supergraph.url, TRACK, {}, await readToken(TEST_SECRET, 'ads-service'));
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      tracks: [{
        title: 'Audited One',
        consent: { decision: { allowed: true, scope: 'TRACK', statement: { choice: 'ALLOW', actor: null } } },
        consentHistory: { edges: [{ node: { seq: 1, actor: null } }] },
        artist: { name: 'Ada Audit', consentHistory: { edges: [{ node: { seq: 1, actor: null } }] } },
      }],
      consentChanges: { edges: [{ node: { artistId: 'aa-artist', actor: null } }, { node: { artistId: 'aa-artist', actor: null } }] },
      consentDecisions: [{ statement: { actor: null } }],
    });
  });

  it('answers a consent:audit caller with every actor id', async () => {
    const res = await postGraphQL(supergraph.url, TRACK, {}, await auditToken(TEST_SECRET, 'auditor-1'));
    expect(res.errors).toBeUndefined();
    const [track] = res.data.tracks;
    expect(track.consent.decision.statement.actor).toBe('ada-app');
    expect(track.consentHistory.edges[0].node.actor).toBe('ada-app');
    expect(track.artist.consentHistory.edges[0].node.actor).toBe('support-2');
    expect(res.data.consentChanges.edges.map((e: any) => e.node.actor)).toEqual(['support-2', 'ada-app']);
    expect(res.data.consentDecisions[0].statement.actor).toBe('ada-app');
  });

  it("shows a change's caller its own id in the payload, without consent:audit", () => {
    expect(setByApp).toEqual({ actor: 'ada-app' });
  });
});
