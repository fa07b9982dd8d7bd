import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitOnAnotherReplica, countReads } from '../helpers/database.js';
import { aSetChange } from '../helpers/changes.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

const DECISIONS = /* GraphQL */ `
  query Decisions($requests: [DecisionRequest!]!, $purpose: ConsentPurpose!, $asOf: DateTime) {
    consentDecisions(requests: $requests, purpose: $purpose, asOf: $asOf) {
      purpose allowed basis scope statement { id artistId trackId } policyVersion
    }
  }`;

const ALLOWED_TRACKS = 150;

describe('consentDecisions', () => {
  let subgraph: TestSubgraph;
  let reader: string;
  let before: string;
  let denied: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    const t = Date.now() - 60_000;
    before = new Date(t - 1).toISOString();
    await subgraph.store.append(aSetChange('bulk-a', 'GENERATIVE_AI_TRAINING'), 'setup', new Date(t));
    denied = (await subgraph.store.append(aSetChange('bulk-b', 'AI_TRAINING', { choice: 'DENY' }), 'setup', new Date(t))).event.id;
    // More track documents than a default first batch (101), so a read that pages would show up.
    for (let i = 0; i < ALLOWED_TRACKS; i++) {
      await subgraph.store.append(aSetChange('bulk-b', 'VOICE_REPLICATION', { trackId: `bt-${i}` }), 'setup', new Date(t + 1));
    }
    // Recorded under another artist: must not count for bulk-b's track bt-0.
    await subgraph.store.append(aSetChange('bulk-x', 'VOICE_REPLICATION', { trackId: 'bt-0', choice: 'DENY' }), 'setup', new Date(t + 2));
  }, 180_000);
  afterAll(() => subgraph.stop());

  it('answers artist and track requests in input order', async () => {
    const requests = [
      { artistId: 'bulk-b', trackId: 'bt-0' },
      { artistId: 'bulk-a' },
      { artistId: 'bulk-b' },
      { artistId: 'nobody', trackId: 'nothing' },
      { artistId: 'bulk-a', trackId: 'bt-0' },
      { artistId: 'bulk-b', trackId: 'bt-0' },
    ];
    const res = await subgraph.query(DECISIONS, { requests, purpose: 'VOICE_REPLICATION' }, reader);
    expect(res.errors).toBeUndefined();
    expect(res.data.consentDecisions.map((d: any) => [d.purpose, d.allowed, d.basis, d.scope, d.statement?.artistId ?? null, d.statement?.trackId ?? null])).toEqual([
      ['VOICE_REPLICATION', true, 'EXPLICIT', 'TRACK', 'bulk-b', 'bt-0'],
      ['VOICE_REPLICATION', true, 'INHERITED', 'ARTIST', 'bulk-a', null],
      ['VOICE_REPLICATION', false, 'INHERITED', 'ARTIST', 'bulk-b', null],
      ['VOICE_REPLICATION', false, 'DEFAULT', 'PLATFORM', null, null],
      ['VOICE_REPLICATION', true, 'INHERITED', 'ARTIST', 'bulk-a', null],
      ['VOICE_REPLICATION', true, 'EXPLICIT', 'TRACK', 'bulk-b', 'bt-0'],
    ]);
    expect(res.data.consentDecisions[2].statement.id).toBe(denied);
  });

  it('answers 1000 requests with one database read (the version; the states from the cache), or two when the cache is stale', async () => {
    const requests = Array.from({ length: 1000 }, (_, i) => (i % 10 === 9 ? { artistId: 'bulk-a' } : { artistId: 'bulk-b', trackId: `bt-${i % 200}` }));
    const ask = () => countReads(subgraph.store, () => subgraph.query(DECISIONS, { requests, purpose: 'VOICE_REPLICATION' }, reader));
    await subgraph.store.cache!.refresh();
    await commitOnAnotherReplica(subgraph.store);
    const stale = await ask();
    await subgraph.store.cache!.refresh();
    const { result, reads } = await ask();
    expect(result.errors).toBeUndefined();
    expect({ stale: stale.reads, current: reads }).toEqual({ stale: 2, current: 1 });
    expect(stale.result.data).toEqual(result.data);
    const answers = result.data.consentDecisions;
    expect(answers).toHaveLength(1000);
    answers.forEach((d: any, i: number) => {
      if (i % 10 === 9) expect(d).toMatchObject({ allowed: true, scope: 'ARTIST' });
      else if (i % 200 < ALLOWED_TRACKS) expect(d).toMatchObject({ allowed: true, scope: 'TRACK', statement: { trackId: `bt-${i % 200}` } });
      else expect(d).toMatchObject({ allowed: false, scope: 'ARTIST', basis: 'INHERITED' });
    });
  });

  it('answers 1000 requests as of a past instant with one database read', async () => {
    const requests = Array.from({ length: 1000 }, (_, i) => ({ artistId: 'bulk-b', trackId: `bt-${i % 200}` }));
    const { result, reads } = await countReads(subgraph.store, () =>
      subgraph.query(DECISIONS, { requests, purpose: 'VOICE_REPLICATION', asOf: new Date().toISOString() }, reader));
    expect(result.errors).toBeUndefined();
    expect(reads).toBe(1);
    expect(result.data.consentDecisions.filter((d: any) => d.allowed)).toHaveLength(1000 * (ALLOWED_TRACKS / 200));
  });

  it('answers as of an instant before any statement with the platform default', async () => {
    const res = await subgraph.query(DECISIONS, { requests: [{ artistId: 'bulk-b', trackId: 'bt-0' }, { artistId: 'bulk-a' }], purpose: 'RECOMMENDATION', asOf: before }, reader);
    expect(res.data.consentDecisions).toEqual([
      { purpose: 'RECOMMENDATION', allowed: true, basis: 'DEFAULT', scope: 'PLATFORM', statement: null, policyVersion: expect.any(String) },
      { purpose: 'RECOMMENDATION', allowed: true, basis: 'DEFAULT', scope: 'PLATFORM', statement: null, policyVersion: expect.any(String) },
    ]);
  });

  it('answers an empty list with an empty list and no read', async () => {
    const { result, reads } = await countReads(subgraph.store, () => subgraph.query(DECISIONS, { requests: [], purpose: 'AI_TRAINING' }, reader));
    expect(result.data.consentDecisions).toEqual([]);
    expect(reads).toBe(0);
  });
});
