import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, auditToken, readToken } from '../helpers/tokens.js';
import { anArtistRef, aTrackRef } from '../helpers/representations.js';

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { event { id seq hash } } }`;
const CLEAR = /* GraphQL */ `
  mutation Clear($input: ClearConsentInput!) { clearConsent(input: $input) { event { id seq hash } } }`;

const HISTORY = /* GraphQL */ `
  query History($representations: [_Any!]!, $first: Int, $after: String, $purpose: ConsentPurpose) {
    _entities(representations: $representations) {
      ... on Artist { id consentHistory(first: $first, after: $after, purpose: $purpose) { ...page } }
      ... on Track { id consentHistory(first: $first, after: $after, purpose: $purpose) { ...page } }
    }
  }
  fragment page on ConsentEventConnection {
    edges { cursor node { id seq kind artistId trackId purpose choice termsVersion source actor at expiresAt hash prevHash } }
    pageInfo { hasNextPage endCursor }
  }`;


describe('consentHistory', () => {
  let subgraph: TestSubgraph;
  let reader: string;
  let admin: string;
  const recorded: Array<{ id: string; seq: number; hash: string }> = [];

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    admin = await adminToken(undefined, 'support-agent-3');
    const changes: Array<[string, Record<string, unknown>]> = [
      [SET, { subject: { artistId: 'a-hist' }, purpose: 'AI_TRAINING', choice: 'DENY', termsVersion: 'tos-1', source: 'artist app' }],
      [SET, { subject: { artistId: 'a-hist' }, purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-2', source: 'ticket 81' }],
      [CLEAR, { subject: { artistId: 'a-hist' }, purpose: 'AI_TRAINING' }],
      [SET, { subject: { artistId: 'a-hist' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-3', expiresAt: '2999-01-01T00:00:00Z' }],
      [SET, { subject: { artistId: 'a-hist' }, purpose: 'ADVERTISING', choice: 'DENY', termsVersion: 'tos-3' }],
    ];
    for (const [mutation, input] of changes) {
      const res = await subgraph.query(mutation, { input }, admin);
      expect(res.errors).toBeUndefined();
      recorded.push((res.data.setConsent ?? res.data.clearConsent).event);
    }
    for (const input of [
      { subject: { artistId: 'a-hist', trackId: 't-hist' }, purpose: 'VOICE_REPLICATION', choice: 'ALLOW', termsVersion: 'tos-3' },
      { subject: { artistId: 'a-other', trackId: 't-hist' }, purpose: 'VOICE_REPLICATION', choice: 'DENY', termsVersion: 'tos-3' },
      { subject: { artistId: 'a-other' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-3' },
    ]) {
      expect((await subgraph.query(SET, { input }, admin)).errors).toBeUndefined();
    }
  });
  afterAll(() => subgraph.stop());

  it('pages through an artist ledger newest first with opaque cursors until the first event', async () => {
    const seen: any[] = [];
    let after: string | null = null;
    const pages: boolean[] = [];
    do {
      const res: any = await subgraph.query(HISTORY, { representations: [anArtistRef('a-hist')], first: 2, after }, reader);
      expect(res.errors).toBeUndefined();
      const page = res.data._entities[0].consentHistory;
      seen.push(...page.edges.map((e: any) => e.node));
      pages.push(page.pageInfo.hasNextPage);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
      expect(page.pageInfo.endCursor).not.toMatch(/^\d+$/);
    } while (after !== null);
    expect(pages).toEqual([true, true, false]);
    expect(seen.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(seen.map((e) => e.id)).toEqual(recorded.map((e) => e.id).reverse());
  });

  it('shows who, when, what, terms, source and the hash chain of each event', async () => {
    // Actor ids are for auditors (consent:audit); a reader sees them null (actorAudit.test.ts).
    const res = await subgraph.query(HISTORY, { representations: [anArtistRef('a-hist')], first: 10 }, await auditToken());
    const events = res.data._entities[0].consentHistory.edges.map((e: any) => e.node);
    expect(events[3]).toMatchObject({
      seq: 2, kind: 'SET', artistId: 'a-hist', trackId: null, purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW',
      termsVersion: 'tos-2', source: 'ticket 81', actor: 'support-agent-3', expiresAt: null,
    });
    expect(events[2]).toMatchObject({ seq: 3, kind: 'CLEAR', purpose: 'AI_TRAINING', choice: null, termsVersion: null });
    expect(events[1]).toMatchObject({ seq: 4, expiresAt: '2999-01-01T00:00:00.000Z' });
    for (const [index, event] of events.entries()) {
      expect(event.hash).toBe(recorded[4 - index]!.hash);
      expect(event.prevHash).toBe(index === events.length - 1 ? null : events[index + 1].hash);
      expect(Date.parse(event.at)).not.toBeNaN();
    }
    expect(res.data._entities[0].consentHistory.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
  });

  it('keeps only events about the purpose asked for, with cursors that page within the filter', async () => {
    const first = await subgraph.query(HISTORY, { representations: [anArtistRef('a-hist')], first: 1, purpose: 'AI_TRAINING' }, reader);
    const page1 = first.data._entities[0].consentHistory;
    expect(page1.edges.map((e: any) => e.node.seq)).toEqual([4]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const rest = await subgraph.query(HISTORY, { representations: [anArtistRef('a-hist')], first: 10, after: page1.pageInfo.endCursor, purpose: 'AI_TRAINING' }, reader);
    expect(rest.data._entities[0].consentHistory.edges.map((e: any) => [e.node.seq, e.node.kind])).toEqual([[3, 'CLEAR'], [1, 'SET']]);
  });

  it("lists a track's own events under its real artist only", async () => {
    const res = await subgraph.query(HISTORY, { representations: [aTrackRef('t-hist', 'a-hist'), aTrackRef('t-hist', 'a-other'), aTrackRef('t-none', 'a-hist')] }, reader);
    const [real, other, none] = res.data._entities.map((e: any) => e.consentHistory.edges.map((edge: any) => edge.node));
    expect(real.map((e: any) => [e.artistId, e.trackId, e.choice])).toEqual([['a-hist', 't-hist', 'ALLOW']]);
    expect(other.map((e: any) => [e.artistId, e.trackId, e.choice])).toEqual([['a-other', 't-hist', 'DENY']]);
    expect(none).toEqual([]);
  });

  it('answers the histories of many entities in one request with one database read', async () => {
    const representations = [anArtistRef('a-hist'), anArtistRef('a-other'), aTrackRef('t-hist', 'a-hist'), ...Array.from({ length: 50 }, (_, i) => aTrackRef(`t-${i}`, 'a-hist'))];
    const { result, reads } = await countReads(subgraph.store, () => subgraph.query(HISTORY, { representations, first: 3 }, reader));
    expect(result.errors).toBeUndefined();
    expect(reads).toBe(1);
    expect(result.data._entities[0].consentHistory.edges.map((e: any) => e.node.seq)).toEqual([5, 4, 3]);
    expect(result.data._entities[1].consentHistory.edges.map((e: any) => e.node.purpose)).toEqual(['AI_TRAINING']);
  });
});
