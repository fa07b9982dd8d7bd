import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitOnAnotherReplica, countReads } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken, writeToken } from '../helpers/tokens.js';
import { aTrackRef } from '../helpers/representations.js';

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) {
    setConsent(input: $input) {
      revision
      event { id seq kind artistId trackId purpose choice termsVersion source actor at expiresAt hash prevHash }
      decision { purpose allowed basis scope policyVersion statement { id actor } }
    }
  }`;

const CLEAR = /* GraphQL */ `
  mutation Clear($input: ClearConsentInput!) {
    clearConsent(input: $input) { revision event { seq kind purpose choice prevHash hash } decision { allowed basis scope } }
  }`;

const TRACK_ENTITIES = /* GraphQL */ `
  query Tracks($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Track { id consent { decisions { purpose allowed basis scope statement { id } policyVersion } } }
      ... on Artist { id consent { decision(purpose: AI_TRAINING) { allowed basis scope } } }
    }
  }`;


describe('the consent subgraph on a real database', () => {
  let subgraph: TestSubgraph;
  let reader: string;
  let admin: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    admin = await adminToken();
  });
  afterAll(() => subgraph.stop());

  it('serves its contract through _service { sdl }', async () => {
    const res = await subgraph.query('{ _service { sdl } }');
    expect(res.data._service.sdl).toMatch(/consent\([^)]*asOf: DateTime\s*\): Consent @requires\(fields: "artist \{ id \} featuredArtists \{ id \} originalArtists \{ id \}"\)/);
    expect(res.data._service.sdl).toContain('@requiresScopes(scopes: [["consent:read"]])');
    expect(res.data._service.sdl).toMatch(/type Track\s+@key\(fields: "id"\)/);
  });

  it('answers the platform default for an artist with no statements', async () => {
    const res = await subgraph.query(TRACK_ENTITIES, { representations: [aTrackRef('t-new', 'a-new')] }, reader);
    const decisions = res.data._entities[0].consent.decisions;
    expect(decisions.map((d: any) => d.purpose)).toEqual([
      'AI_TRAINING', 'NON_GENERATIVE_AI_TRAINING', 'GENERATIVE_AI_TRAINING', 'VOICE_REPLICATION',
      'MUSIC_REPLICATION', 'LIKENESS_REPLICATION', 'AI_INFERENCE', 'RECOMMENDATION', 'ADVERTISING',
    ]);
    for (const d of decisions) {
      expect(d.basis).toBe('DEFAULT');
      expect(d.scope).toBe('PLATFORM');
      expect(d.statement).toBeNull();
      expect(d.allowed).toBe(d.purpose === 'RECOMMENDATION' || d.purpose === 'ADVERTISING');
    }
  });

  it('records a change in the ledger with actor, chain and a decision', async () => {
    const token = await writeToken(undefined, ['a-ledger'], 'artist-app-user-7');
    const first = await subgraph.query(SET, {
      input: { subject: { artistId: 'a-ledger' }, purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-3', source: 'artist app' },
    }, token);
    expect(first.errors).toBeUndefined();
    const { event, decision, revision } = first.data.setConsent;
    expect(event).toMatchObject({ seq: 1, kind: 'SET', artistId: 'a-ledger', trackId: null, actor: 'artist-app-user-7', termsVersion: 'tos-3', source: 'artist app', prevHash: null });
    expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(decision).toMatchObject({ purpose: 'GENERATIVE_AI_TRAINING', allowed: true, basis: 'EXPLICIT', scope: 'ARTIST', statement: { id: event.id } });
    expect(Number(revision)).toBeGreaterThan(0);

    const cleared = await subgraph.query(CLEAR, { input: { subject: { artistId: 'a-ledger' }, purpose: 'GENERATIVE_AI_TRAINING' } }, token);
    expect(cleared.data.clearConsent.event).toMatchObject({ seq: 2, kind: 'CLEAR', choice: null, prevHash: event.hash });
    expect(cleared.data.clearConsent.decision).toMatchObject({ allowed: false, basis: 'DEFAULT', scope: 'PLATFORM' });
    expect(Number(cleared.data.clearConsent.revision)).toBeGreaterThan(Number(revision));
  });

  it('returns the first result for a retried idempotency key and writes nothing', async () => {
    const input = { subject: { artistId: 'a-idem' }, purpose: 'AI_INFERENCE', choice: 'ALLOW', termsVersion: 'tos-1', idempotencyKey: 'req-1' };
    const first = await subgraph.query(SET, { input }, admin);
    const again = await subgraph.query(SET, { input }, admin);
    expect(again.data.setConsent.event).toEqual(first.data.setConsent.event);
    expect(again.data.setConsent.revision).toBe(first.data.setConsent.revision);
    expect(await subgraph.store.collections.events.countDocuments({ artistId: 'a-idem' })).toBe(1);
  });

  it('refuses an idempotency key reused for a different change', async () => {
    const input = { subject: { artistId: 'a-idem2' }, purpose: 'AI_INFERENCE', choice: 'ALLOW', termsVersion: 'tos-1', idempotencyKey: 'req-2' };
    await subgraph.query(SET, { input }, admin);
    const res = await subgraph.query(SET, { input: { ...input, choice: 'DENY' } }, admin);
    expect(res.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await subgraph.store.collections.events.countDocuments({ artistId: 'a-idem2' })).toBe(1);
  });

  it('ignores statements recorded for a track under another artist id', async () => {
    await subgraph.query(SET, { input: { subject: { artistId: 'a-impostor', trackId: 't-shared' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1' } }, admin);
    const res = await subgraph.query(TRACK_ENTITIES, { representations: [aTrackRef('t-shared', 'a-real'), aTrackRef('t-shared', 'a-impostor')] }, reader);
    const [real, impostor] = res.data._entities;
    expect(real.consent.decisions[0]).toMatchObject({ purpose: 'AI_TRAINING', allowed: false, basis: 'DEFAULT' });
    expect(impostor.consent.decisions[0]).toMatchObject({ purpose: 'AI_TRAINING', allowed: true, basis: 'EXPLICIT', scope: 'TRACK' });
  });

  it.each([1, 10, 100, 1000])('answers %i track representations with 1 database read from a current cache, 2 from a stale one', async (n) => {
    const representations = Array.from({ length: n }, (_, i) => aTrackRef(`t-batch-${i}`, `a-batch-${i % 7}`));
    const ask = () => countReads(subgraph.store, () => subgraph.query(TRACK_ENTITIES, { representations }, reader));
    // Stale: a commit since the cache was loaded, which it follows with one read of the log.
    await subgraph.store.cache!.refresh();
    await commitOnAnotherReplica(subgraph.store);
    const stale = await ask();
    // Current: loaded at the version the request reads.
    await subgraph.store.cache!.refresh();
    const current = await ask();
    for (const { result } of [stale, current]) {
      expect(result.errors).toBeUndefined();
      expect(result.data._entities).toHaveLength(n);
      expect(result.data._entities.map((e: any) => e.id)).toEqual(representations.map((r) => r.id));
    }
    expect(current.result.data).toEqual(stale.result.data);
    expect({ stale: stale.reads, current: current.reads }).toEqual({ stale: 2, current: 1 });
  });
});
