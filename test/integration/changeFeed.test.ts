import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURPOSES } from '../../src/consent/purposes.js';
import type { EventDoc } from '../../src/store/collections.js';
import { aClearChange, aSetChange } from '../helpers/changes.js';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { auditToken, readToken } from '../helpers/tokens.js';
import { decodeNumericCursor } from '../../src/consent/cursor.js';

// The service's own decoder: it throws for anything that is not a feed cursor it issued.
const decodeGseq = (cursor: string) => decodeNumericCursor(cursor, 'feed');

const FEED = /* GraphQL */ `
  query Feed($after: String, $first: Int) {
    consentChanges(after: $after, first: $first) {
      edges { cursor node { id seq kind artistId trackId purpose actor at hash prevHash } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('consentChanges with writers busy', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
  });
  afterAll(() => subgraph.stop());

  it('gives a concurrent reader every event exactly once, in one global order', async () => {
    const WRITERS = 5;
    const PER_WRITER = 30;
    let writing = true;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < PER_WRITER; i++) {
        // Few subjects, so writers also race each other on the same chains.
        const artistId = `feed-a${(w + i) % 3}`;
        const trackId = i % 2 === 0 ? null : `feed-t${i % 4}`;
        const purpose = PURPOSES[(w * 7 + i) % PURPOSES.length]!;
        const change = i % 5 === 4 ? aClearChange(artistId, purpose, trackId) : aSetChange(artistId, purpose, { trackId, choice: i % 3 === 0 ? 'DENY' : 'ALLOW' });
        await subgraph.store.append(change, `writer-${w}`, new Date());
      }
    });
    const allWritten = Promise.all(writers).finally(() => {
      writing = false;
    });

    const collected: Array<{ id: string; gseq: number }> = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const stillWriting = writing;
      const res: any = await subgraph.query(FEED, { after, first: 7 }, reader);
      expect(res.errors).toBeUndefined();
      const { edges, pageInfo } = res.data.consentChanges;
      pages++;
      for (const edge of edges) collected.push({ id: edge.node.id, gseq: decodeGseq(edge.cursor) });
      if (pageInfo.endCursor !== null) after = pageInfo.endCursor;
      // Done only once a read that began after the last write finds nothing more.
      if (!stillWriting && edges.length === 0 && !pageInfo.hasNextPage) break;
      if (edges.length === 0) await sleep(5);
    }
    await allWritten;

    const all = await subgraph.store.collections.events.find({}, { projection: { _id: 1, gseq: 1 } }).toArray();
    expect(all).toHaveLength(WRITERS * PER_WRITER);
    expect(collected.map((e) => e.gseq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect(new Set(collected.map((e) => e.id)).size).toBe(collected.length);
    expect(new Set(collected.map((e) => e.id))).toEqual(new Set(all.map((e) => e._id)));
    // The reader really ran alongside the writers, not only after them.
    expect(pages).toBeGreaterThan((WRITERS * PER_WRITER) / 7);
  }, 180_000);

  it('resumes from a stored endCursor with only the events committed since', async () => {
    const head: any = await subgraph.query(FEED, { first: 1000 }, reader);
    const stored = head.data.consentChanges.pageInfo.endCursor;
    const before = head.data.consentChanges.edges.length;
    const empty = await subgraph.query(FEED, { after: stored }, reader);
    expect(empty.data.consentChanges).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: stored } });

    const { event } = await subgraph.store.append(aSetChange('feed-late', 'AI_TRAINING', { choice: 'DENY' }), 'late-writer', new Date());
    const resumed = await subgraph.query(FEED, { after: stored }, await auditToken());
    expect(resumed.data.consentChanges.edges.map((e: any) => [e.node.id, e.node.artistId, e.node.actor])).toEqual([[event.id, 'feed-late', 'late-writer']]);
    expect(decodeGseq(resumed.data.consentChanges.pageInfo.endCursor)).toBe(before + 1);
  });

  it('reads one page with one database read', async () => {
    const { result, reads } = await countReads(subgraph.store, () => subgraph.query(FEED, { first: 1000 }, reader));
    expect(result.data.consentChanges.edges.length).toBeGreaterThan(101);
    expect(reads).toBe(1);
  });
});

describe('consentChanges while an event is still committing', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    for (let i = 0; i < 3; i++) await subgraph.store.append(aSetChange(`gap-a${i}`, 'AI_TRAINING'), 'writer', new Date());
  });
  afterAll(() => subgraph.stop());

  it('stops before a gap and delivers the late event, then the ones after it, once it commits', async () => {
    const events = subgraph.store.collections.events;
    const template = (await events.findOne({ gseq: 3 }))!;
    const copy = (gseq: number): EventDoc => ({ ...template, _id: `late-${gseq}`, idem: `event:late-${gseq}`, subject: `artist/late-${gseq}`, artistId: `late-${gseq}`, gseq });
    // gseq 5 is visible while 4 is not yet: what a reader could meet if a commit were slow.
    await events.insertOne(copy(5));

    const first: any = await subgraph.query(FEED, { first: 10 }, reader);
    expect(first.data.consentChanges.edges.map((e: any) => decodeGseq(e.cursor))).toEqual([1, 2, 3]);
    expect(first.data.consentChanges.pageInfo.hasNextPage).toBe(true);

    const stillWaiting: any = await subgraph.query(FEED, { after: first.data.consentChanges.pageInfo.endCursor }, reader);
    expect(stillWaiting.data.consentChanges.edges).toEqual([]);
    expect(stillWaiting.data.consentChanges.pageInfo).toEqual({ hasNextPage: true, endCursor: first.data.consentChanges.pageInfo.endCursor });

    await events.insertOne(copy(4));
    const rest: any = await subgraph.query(FEED, { after: first.data.consentChanges.pageInfo.endCursor }, reader);
    expect(rest.data.consentChanges.edges.map((e: any) => [decodeGseq(e.cursor), e.node.id])).toEqual([[4, 'late-4'], [5, 'late-5']]);
    expect(rest.data.consentChanges.pageInfo.hasNextPage).toBe(false);
  });
});
