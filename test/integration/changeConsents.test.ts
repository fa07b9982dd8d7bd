import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_CHANGES_PER_CALL } from '../../src/ConsentService.js';
import { revisionOf } from '../../src/store/documents.js';
import { subjectKey } from '../../src/store/subjectKey.js';
import { aClearItem, aSetItem } from '../helpers/changes.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, writeToken } from '../helpers/tokens.js';

// Mutation.changeConsents (DESIGN §8): many sets and clears in one call, written with one
// appendMany, answered in input order, each change with its own event, chain link and revision.

const CHANGE = /* GraphQL */ `
  mutation Change($changes: [ConsentChangeInput!]!) {
    changeConsents(changes: $changes) {
      revision
      event { id seq kind artistId trackId purpose choice termsVersion source actor at expiresAt hash prevHash }
      decision { purpose allowed basis scope statement { id } parties { artistId role allowed basis scope } }
      track { id }
    }
  }`;
const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) {
    setConsent(input: $input) {
      revision
      event { id seq kind artistId trackId purpose choice termsVersion source actor at expiresAt hash prevHash }
      decision { purpose allowed basis scope statement { id } parties { artistId role allowed basis scope } }
      track { id }
    }
  }`;

describe('changeConsents', () => {
  let subgraph: TestSubgraph;
  let admin: string;
  const ledger = () => subgraph.store.collections.events.find({}).sort({ gseq: 1 }).toArray();

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    admin = await adminToken();
  });
  afterAll(() => subgraph?.stop());
  afterEach(() => vi.restoreAllMocks());

  it('returns one payload per change in input order, for a mix of sets and clears on artists and tracks', async () => {
    const changes = [
      aSetItem('mix-1', 'AI_TRAINING'),
      aSetItem('mix-2', 'VOICE_REPLICATION', { trackId: 'mix-t-1', choice: 'DENY', source: 'label import' }),
      aClearItem('mix-3', 'ADVERTISING'),
      aSetItem('mix-3', 'RECOMMENDATION', { choice: 'DENY', expiresAt: '2099-01-01T00:00:00Z' }),
      aClearItem('mix-2', 'VOICE_REPLICATION', { trackId: 'mix-t-1' }),
    ];
    const res = await subgraph.query(CHANGE, { changes }, admin);

    expect(res.errors).toBeUndefined();
    const payloads = res.data.changeConsents;
    expect(payloads.map((p: any) => [p.event.kind, p.event.artistId, p.event.trackId, p.event.purpose, p.event.choice])).toEqual([
      ['SET', 'mix-1', null, 'AI_TRAINING', 'ALLOW'],
      ['SET', 'mix-2', 'mix-t-1', 'VOICE_REPLICATION', 'DENY'],
      ['CLEAR', 'mix-3', null, 'ADVERTISING', null],
      ['SET', 'mix-3', null, 'RECOMMENDATION', 'DENY'],
      ['CLEAR', 'mix-2', 'mix-t-1', 'VOICE_REPLICATION', null],
    ]);
    expect(payloads[1].event.source).toBe('label import');
    expect(payloads[3].event.expiresAt).toBe('2099-01-01T00:00:00.000Z');
    expect(payloads.map((p: any) => p.event.actor)).toEqual(Array(5).fill('test-admin'));
    expect(payloads.map((p: any) => p.track)).toEqual([null, { id: 'mix-t-1' }, null, null, { id: 'mix-t-1' }]);
    expect(payloads[0].decision).toMatchObject({ purpose: 'AI_TRAINING', allowed: true, basis: 'EXPLICIT', scope: 'ARTIST', statement: { id: payloads[0].event.id } });
    expect(payloads[3].decision).toMatchObject({ purpose: 'RECOMMENDATION', allowed: false, basis: 'EXPLICIT', scope: 'ARTIST' });

    // Each payload names its own ledger event and that event's revision.
    const docs = await ledger();
    for (const payload of payloads) {
      const doc = docs.find((d) => d._id === payload.event.id)!;
      expect(doc).toBeDefined();
      expect(payload.revision).toBe(revisionOf(doc.gseq));
      expect(payload.event.hash).toBe(doc.hash);
    }
    expect(new Set(payloads.map((p: any) => p.revision)).size).toBe(5);
  });

  it('chains two changes of one subject in input order, and decides both after the whole call', async () => {
    const changes = [aSetItem('twice', 'AI_TRAINING'), aSetItem('other', 'AI_TRAINING'), aSetItem('twice', 'AI_TRAINING', { choice: 'DENY' })];
    const res = await subgraph.query(CHANGE, { changes }, admin);

    expect(res.errors).toBeUndefined();
    const [first, , second] = res.data.changeConsents;
    expect([first.event.seq, second.event.seq]).toEqual([1, 2]);
    expect(first.event.prevHash).toBeNull();
    expect(second.event.prevHash).toBe(first.event.hash);
    expect(Number(second.revision)).toBeGreaterThan(Number(first.revision));
    // Both decisions are read once the call is written: the later DENY stands for both.
    for (const payload of [first, second]) {
      expect(payload.decision).toMatchObject({ allowed: false, basis: 'EXPLICIT', statement: { id: second.event.id } });
    }
  });

  it('answers each change as setConsent answers the same change', async () => {
    const input = { subject: { artistId: 'same-a', trackId: 'same-t' }, purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1', source: 's' };
    const single = await subgraph.query(SET, { input }, admin);
    const batch = await subgraph.query(CHANGE, { changes: [{ set: { ...input, subject: { artistId: 'same-b', trackId: 'same-t' } } }] }, admin);

    expect(single.errors).toBeUndefined();
    expect(batch.errors).toBeUndefined();
    const strip = (payload: any) => JSON.parse(JSON.stringify(payload).replaceAll('same-a', 'X').replaceAll('same-b', 'X'));
    const a = strip(single.data.setConsent);
    const b = strip(batch.data.changeConsents[0]);
    for (const p of [a, b]) {
      delete p.revision;
      for (const field of ['id', 'at', 'hash']) delete p.event[field];
      delete p.decision.statement.id;
    }
    expect(b).toEqual(a);
  });

  it("decides a change with credits over the track's parties, and one without over its own artist", async () => {
    const credits = { mainArtistId: 'cr-main', featuredArtistIds: ['cr-feat'] };
    const changes = [
      aSetItem('cr-feat', 'VOICE_REPLICATION', { trackId: 'cr-t' }),
      aSetItem('cr-main', 'VOICE_REPLICATION', { trackId: 'cr-t', credits }),
      aSetItem('cr-main', 'AI_INFERENCE', { trackId: 'cr-t' }),
      aClearItem('cr-feat', 'VOICE_REPLICATION', { trackId: 'cr-t', credits }),
    ];
    const res = await subgraph.query(CHANGE, { changes }, admin);

    expect(res.errors).toBeUndefined();
    const [own, withCredits, withoutCredits, cleared] = res.data.changeConsents;
    expect(own.decision.parties).toEqual([{ artistId: 'cr-feat', role: 'MAIN', allowed: false, basis: 'DEFAULT', scope: 'PLATFORM' }]);
    // Decided after the whole call: the featured artist's own statement was cleared again by change 3.
    expect(withCredits.decision).toMatchObject({ allowed: false, basis: 'DEFAULT', scope: 'PLATFORM' });
    expect(withCredits.decision.parties.map((p: any) => [p.artistId, p.role, p.allowed])).toEqual([
      ['cr-main', 'MAIN', true],
      ['cr-feat', 'FEATURED', false],
    ]);
    expect(withoutCredits.decision.parties.map((p: any) => p.artistId)).toEqual(['cr-main']);
    expect(cleared.decision.parties.map((p: any) => [p.artistId, p.role])).toEqual([
      ['cr-main', 'MAIN'],
      ['cr-feat', 'FEATURED'],
    ]);
  });

  it('returns the same events for a retried call, marked by nothing new in the ledger', async () => {
    const changes = [
      aSetItem('retry-1', 'AI_TRAINING', { idempotencyKey: 'k-1' }),
      aClearItem('retry-2', 'ADVERTISING', { idempotencyKey: 'k-2' }),
      aSetItem('retry-1', 'AI_INFERENCE', { idempotencyKey: 'k-3', choice: 'DENY' }),
    ];
    const first = await subgraph.query(CHANGE, { changes }, admin);
    expect(first.errors).toBeUndefined();
    const before = await ledger();

    const again = await subgraph.query(CHANGE, { changes }, admin);

    expect(again.errors).toBeUndefined();
    expect(await ledger()).toEqual(before);
    const events = (res: typeof first) => res.data.changeConsents.map((p: any) => [p.event, p.revision]);
    expect(events(again)).toEqual(events(first));
  });

  it('refuses the whole call, naming the change, when a key was used before for a different change; writes nothing', async () => {
    const first = await subgraph.query(CHANGE, { changes: [aSetItem('reuse-1', 'AI_TRAINING', { idempotencyKey: 'reuse-k' })] }, admin);
    expect(first.errors).toBeUndefined();
    const before = await ledger();

    const changes = [
      aSetItem('reuse-2', 'AI_TRAINING', { idempotencyKey: 'reuse-fresh' }),
      aSetItem('reuse-3', 'ADVERTISING'),
      aSetItem('reuse-1', 'AI_TRAINING', { idempotencyKey: 'reuse-k', choice: 'DENY' }),
    ];
    const res = await subgraph.query(CHANGE, { changes }, admin);

    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', index: 2 });
    expect(res.errors?.[0]?.message).toMatch(/^changes\[2\]\.set: idempotencyKey "reuse-k" was already used for a different change/);
    expect(await ledger()).toEqual(before);
  });

  it('writes 1000 changes with one appendMany and decides them all with one state lookup, in input order', async () => {
    const appendMany = vi.spyOn(subgraph.store, 'appendMany');
    const statesByKeys = vi.spyOn(subgraph.store, 'statesAfterWrites');
    const purposes = ['AI_TRAINING', 'RECOMMENDATION'];
    const changes = Array.from({ length: MAX_CHANGES_PER_CALL }, (_, i) =>
      i % 5 === 4 ? aClearItem(`bulk-${i % 400}`, 'ADVERTISING', { trackId: `bulk-t-${i}` }) : aSetItem(`bulk-${i % 400}`, purposes[i % 2]!, { choice: i % 3 ? 'ALLOW' : 'DENY' }),
    );
    const before = (await ledger()).length;

    const res = await subgraph.query(CHANGE, { changes }, admin);

    expect(res.errors).toBeUndefined();
    const payloads = res.data.changeConsents;
    expect(payloads).toHaveLength(MAX_CHANGES_PER_CALL);
    payloads.forEach((p: any, i: number) => {
      const asked = changes[i]!;
      const input = 'set' in asked ? asked.set : asked.clear;
      expect([p.event.artistId, p.event.trackId ?? undefined, p.event.purpose]).toEqual([input.subject.artistId, input.subject.trackId, input.purpose]);
    });
    expect((await ledger()).length).toBe(before + MAX_CHANGES_PER_CALL);
    expect(appendMany).toHaveBeenCalledTimes(1);
    expect(appendMany.mock.calls[0]![0]).toHaveLength(MAX_CHANGES_PER_CALL);
    expect(statesByKeys).toHaveBeenCalledTimes(1);
    // 400 artists, and the 200 tracks whose clears are decided over their artist too.
    expect(new Set(statesByKeys.mock.calls[0]![0])).toEqual(
      new Set([...Array.from({ length: 400 }, (_, i) => `artist/bulk-${i}`), ...changes.flatMap((c) => ('clear' in c ? [subjectKey({ artistId: c.clear.subject.artistId, trackId: c.clear.subject.trackId! })] : []))]),
    );
  }, 600_000);

  it('returns an empty list for no changes and writes nothing', async () => {
    const appendMany = vi.spyOn(subgraph.store, 'appendMany');
    const before = await ledger();
    const res = await subgraph.query(CHANGE, { changes: [] }, admin);

    expect(res.errors).toBeUndefined();
    expect(res.data.changeConsents).toEqual([]);
    expect(appendMany).not.toHaveBeenCalled();
    expect(await ledger()).toEqual(before);
  });

  it("lets a consent:write token change its own artists' consent in bulk", async () => {
    const writer = await writeToken(undefined, ['own-1', 'own-2'], 'artist-app');
    const res = await subgraph.query(CHANGE, { changes: [aSetItem('own-1', 'AI_TRAINING'), aSetItem('own-2', 'VOICE_REPLICATION', { trackId: 'own-t' })] }, writer);

    expect(res.errors).toBeUndefined();
    expect(res.data.changeConsents.map((p: any) => [p.event.artistId, p.event.actor])).toEqual([
      ['own-1', 'artist-app'],
      ['own-2', 'artist-app'],
    ]);
  });
});
