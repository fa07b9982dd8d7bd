import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Purpose } from '../../src/consent/purposes.js';
import { aClearChange, aSetChange } from '../helpers/changes.js';
import { insertLedgerWithProjection, ledgerDocs, type TimedChange } from '../helpers/seedLedger.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

const LIST = /* GraphQL */ `
  query List($purpose: ConsentPurpose!, $first: Int, $after: String) {
    artistsAllowing(purpose: $purpose, first: $first, after: $after) {
      edges { cursor node { id consent { decision(purpose: $purpose) { allowed basis scope } } } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const ARTISTS = 300;
const id = (i: number) => `list-${String(i).padStart(3, '0')}`;

// Artist i: i%5 0 allows AI_TRAINING (so VOICE_REPLICATION by inheritance), 1 allows VOICE_REPLICATION,
// 2 allows AI_TRAINING but denies VOICE_REPLICATION, 3 allows it on one track only, 4 allows it and
// then clears it. Every 50th artist's AI_TRAINING allowance has expired; every 7th denies RECOMMENDATION.
function scenario(now: number): TimedChange[] {
  const changes: TimedChange[] = [];
  const at = (ms: number) => new Date(now - 3_600_000 + ms);
  for (let i = 0; i < ARTISTS; i++) {
    const a = id(i);
    const push = (change: TimedChange['change']) => changes.push({ change, actor: 'lister', at: at(changes.length) });
    switch (i % 5) {
      case 0: push(aSetChange(a, 'AI_TRAINING', { expiresAt: i % 50 === 0 ? at(1_800_000) : null })); break;
      case 1: push(aSetChange(a, 'VOICE_REPLICATION')); break;
      case 2: push(aSetChange(a, 'AI_TRAINING')); push(aSetChange(a, 'VOICE_REPLICATION', { choice: 'DENY' })); break;
      case 3: push(aSetChange(a, 'VOICE_REPLICATION', { trackId: 'only-track' })); push(aSetChange(a, 'ADVERTISING', { choice: 'DENY' })); break;
      case 4: push(aSetChange(a, 'VOICE_REPLICATION')); push(aClearChange(a, 'VOICE_REPLICATION')); break;
    }
    if (i % 7 === 0) push(aSetChange(a, 'RECOMMENDATION', { choice: 'DENY' }));
  }
  return changes;
}

describe('artistsAllowing', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    await insertLedgerWithProjection(subgraph.store.collections, ledgerDocs(scenario(Date.now())));
  }, 180_000);
  afterAll(() => subgraph.stop());

  async function listAll(purpose: Purpose, first: number) {
    const ids: string[] = [];
    const pages: any[] = [];
    let after: string | null = null;
    for (;;) {
      const res: any = await subgraph.query(LIST, { purpose, first, after }, reader);
      expect(res.errors).toBeUndefined();
      const page = res.data.artistsAllowing;
      pages.push(page);
      ids.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) return { ids, pages };
      after = page.pageInfo.endCursor;
    }
  }

  it('pages through exactly the artists whose artist-wide settings allow the purpose, each once, in id order', async () => {
    const expected = Array.from({ length: ARTISTS }, (_, i) => i).filter((i) => (i % 5 === 0 && i % 50 !== 0) || i % 5 === 1).map(id);
    const { ids, pages } = await listAll('VOICE_REPLICATION', 7);
    expect(ids).toEqual(expected);
    expect(pages.length).toBe(Math.ceil(expected.length / 7));
    for (const page of pages) {
      for (const edge of page.edges) expect(edge.node.consent.decision.allowed).toBe(true);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
    }
  });

  it('includes artists allowed by inheritance and explicitly, as Artist entities', async () => {
    const res = await subgraph.query(LIST, { purpose: 'VOICE_REPLICATION', first: 2 }, reader);
    expect(res.data.artistsAllowing.edges.map((e: any) => [e.node.id, e.node.consent.decision])).toEqual([
      [id(1), { allowed: true, basis: 'EXPLICIT', scope: 'ARTIST' }],
      [id(5), { allowed: true, basis: 'INHERITED', scope: 'ARTIST' }],
    ]);
  });

  it('lists the artists with a record unless they deny a purpose allowed by default', async () => {
    const { ids } = await listAll('RECOMMENDATION', 100);
    expect(ids).toEqual(Array.from({ length: ARTISTS }, (_, i) => i).filter((i) => i % 7 !== 0).map(id));
  });

  it('gives the same artists whatever the page size', async () => {
    const [small, large] = await Promise.all([listAll('AI_TRAINING', 3), listAll('AI_TRAINING', 1000)]);
    expect(small.ids).toEqual(large.ids);
    expect(large.pages).toHaveLength(1);
    expect(new Set(small.ids).size).toBe(small.ids.length);
  });

  it('keeps a cursor valid when an artist before it is added', async () => {
    const first = await subgraph.query(LIST, { purpose: 'VOICE_REPLICATION', first: 3 }, reader);
    const cursor = first.data.artistsAllowing.pageInfo.endCursor;
    await subgraph.store.append(aSetChange('list-000a', 'VOICE_REPLICATION'), 'lister', new Date());
    const next = await subgraph.query(LIST, { purpose: 'VOICE_REPLICATION', first: 2, after: cursor }, reader);
    expect(first.data.artistsAllowing.edges.map((e: any) => e.node.id)).toEqual([id(1), id(5), id(6)]);
    expect(next.data.artistsAllowing.edges.map((e: any) => e.node.id)).toEqual([id(10), id(11)]);
  });

  it("lists an artist whose denial of a sibling purpose leaves this one allowed by inheritance", async () => {
    const { ids } = await listAll('LIKENESS_REPLICATION', 50);
    expect(ids).toEqual(Array.from({ length: ARTISTS }, (_, i) => i).filter((i) => (i % 5 === 0 && i % 50 !== 0) || i % 5 === 2).map(id));
  });

  it('returns an empty page when no artist allows the purpose', async () => {
    const none = await subgraph.query(LIST, { purpose: 'AI_INFERENCE' }, reader);
    expect(none.data.artistsAllowing).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });
});
