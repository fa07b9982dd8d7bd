import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CREDITED_ARTISTS } from '../../src/consent/credits.js';
import type { Purpose } from '../../src/consent/purposes.js';
import type { Choice } from '../../src/consent/statement.js';
import { aSetChange } from '../helpers/changes.js';
import { commitOnAnotherReplica, countReads } from '../helpers/database.js';
import { aCreditedTrackRef, anArtistRef } from '../helpers/representations.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken, writeToken } from '../helpers/tokens.js';

// A track's consent over every artist the catalog credits on it (DESIGN §7), through the real
// server and database: what the representation carries decides who counts.

// Kept flat, without fragments: the server limits query depth.
const DECISION = /* GraphQL */ `
  query Decision($representations: [_Any!]!, $purpose: ConsentPurpose!, $asOf: DateTime) {
    _entities(representations: $representations) {
      ... on Track { consent(asOf: $asOf) { decision(purpose: $purpose) { purpose allowed basis scope statement { artistId trackId choice } parties { artistId role allowed basis scope } } } }
      ... on Artist { consent(asOf: $asOf) { decision(purpose: $purpose) { purpose allowed basis scope statement { artistId trackId choice } parties { artistId role allowed basis scope } } } }
    }
  }`;

// What a recommendation or training service asks of many tracks at once.
const MANY_TRACKS = /* GraphQL */ `
  query ManyTracks($representations: [_Any!]!, $purpose: ConsentPurpose!) {
    _entities(representations: $representations) { ... on Track { consent { decision(purpose: $purpose) { allowed parties { artistId allowed } } } } }
  }`;

const SIGNALS = /* GraphQL */ `
  query Signals($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Track { consent { signals { tdmReservation aipref cawg { json } } } } }
  }`;

const DECISIONS = /* GraphQL */ `
  query Many($requests: [DecisionRequest!]!, $purpose: ConsentPurpose!, $asOf: DateTime) {
    consentDecisions(requests: $requests, purpose: $purpose, asOf: $asOf) { allowed scope statement { artistId } parties { artistId role allowed } }
  }`;

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) {
    setConsent(input: $input) {
      event { artistId trackId choice }
      decision { allowed statement { artistId } parties { artistId role allowed } }
      track { id }
    }
  }`;

const CLEAR = /* GraphQL */ `
  mutation Clear($input: ClearConsentInput!) {
    clearConsent(input: $input) { decision { allowed parties { artistId role allowed } } track { id } }
  }`;

describe('a track decided over every credited party', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  // Statements made directly in the store, as the artist's own app would through setConsent.
  const say = (artistId: string, purpose: Purpose, choice: Choice, trackId: string | null = null, at = new Date()) =>
    subgraph.store.append(aSetChange(artistId, purpose, { trackId, choice }), `app-${artistId}`, at);
  const decision = async (representation: object, purpose: Purpose, asOf?: Date) => {
    const res = await subgraph.query(DECISION, { representations: [representation], purpose, asOf: asOf?.toISOString() }, reader);
    expect(res.errors).toBeUndefined();
    return res.data._entities[0].consent.decision;
  };

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    // A duet: the main artist allows all AI training, the featured vocalist denies voice replication.
    await say('a-main', 'AI_TRAINING', 'ALLOW');
    await say('a-vocal', 'VOICE_REPLICATION', 'DENY');
    await say('a-vocal', 'MUSIC_REPLICATION', 'ALLOW');
    // A remix whose original artist allows everything AI but denies the remix by track.
    await say('a-orig', 'AI_TRAINING', 'ALLOW');
    await say('a-remixer', 'AI_TRAINING', 'ALLOW');
    await say('a-orig', 'GENERATIVE_AI_TRAINING', 'DENY', 't-remix');
  });
  afterAll(() => subgraph.stop());

  it('lets a featured artist\'s DENY block VOICE_REPLICATION, deciding with that party\'s fields', async () => {
    const d = await decision(aCreditedTrackRef('t-duet', 'a-main', ['a-vocal']), 'VOICE_REPLICATION');
    expect(d).toEqual({
      purpose: 'VOICE_REPLICATION',
      allowed: false,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statement: { artistId: 'a-vocal', trackId: null, choice: 'DENY' },
      parties: [
        { artistId: 'a-main', role: 'MAIN', allowed: true, basis: 'INHERITED', scope: 'ARTIST' },
        { artistId: 'a-vocal', role: 'FEATURED', allowed: false, basis: 'EXPLICIT', scope: 'ARTIST' },
      ],
    });
  });

  it('allows an AI purpose only when every party allows, answering with MAIN\'s fields then', async () => {
    const d = await decision(aCreditedTrackRef('t-duet', 'a-main', ['a-vocal']), 'MUSIC_REPLICATION');
    expect(d).toMatchObject({ allowed: true, basis: 'INHERITED', statement: { artistId: 'a-main' } });
    expect(d.parties.map((p: any) => [p.artistId, p.allowed])).toEqual([['a-main', true], ['a-vocal', true]]);
  });

  it('blocks a remix by its original artist\'s track statement, and not the same track without that credit', async () => {
    const credited = await decision(aCreditedTrackRef('t-remix', 'a-remixer', [], ['a-orig']), 'GENERATIVE_AI_TRAINING');
    expect(credited).toMatchObject({ allowed: false, basis: 'EXPLICIT', scope: 'TRACK', statement: { artistId: 'a-orig', trackId: 't-remix' } });
    expect(credited.parties.map((p: any) => [p.artistId, p.role, p.allowed])).toEqual([['a-remixer', 'MAIN', true], ['a-orig', 'ORIGINAL', false]]);

    // The catalog no longer credits a-orig on t-remix: its statement under (a-orig, t-remix) no longer counts.
    const uncredited = await decision(aCreditedTrackRef('t-remix', 'a-remixer'), 'GENERATIVE_AI_TRAINING');
    expect(uncredited).toMatchObject({ allowed: true, statement: { artistId: 'a-remixer', trackId: null } });
    expect(uncredited.parties.map((p: any) => p.artistId)).toEqual(['a-remixer']);
  });

  it('leaves RECOMMENDATION and ADVERTISING to MAIN alone, listing only MAIN', async () => {
    await say('a-norec', 'RECOMMENDATION', 'DENY');
    await say('a-norec', 'ADVERTISING', 'DENY');
    for (const purpose of ['RECOMMENDATION', 'ADVERTISING'] as const) {
      const d = await decision(aCreditedTrackRef('t-rec', 'a-main', ['a-norec'], ['a-vocal']), purpose);
      expect(d).toMatchObject({ allowed: true, basis: 'DEFAULT', scope: 'PLATFORM' });
      expect(d.parties).toEqual([{ artistId: 'a-main', role: 'MAIN', allowed: true, basis: 'DEFAULT', scope: 'PLATFORM' }]);
    }
    const asMain = await decision(aCreditedTrackRef('t-rec', 'a-norec', ['a-main']), 'RECOMMENDATION');
    expect(asMain).toMatchObject({ allowed: false, statement: { artistId: 'a-norec' } });
  });

  it('lists parties MAIN, FEATURED in order, ORIGINAL in order, an artist credited twice once under its first role', async () => {
    const d = await decision(aCreditedTrackRef('t-order', 'a-main', ['f-2', 'f-1', 'a-main'], ['o-9', 'f-1', 'o-3']), 'AI_TRAINING');
    expect(d.parties.map((p: any) => `${p.role}:${p.artistId}`)).toEqual(['MAIN:a-main', 'FEATURED:f-2', 'FEATURED:f-1', 'ORIGINAL:o-9', 'ORIGINAL:o-3']);
    // Nobody but a-main opted in, so the first other party denies by default.
    expect(d).toMatchObject({ allowed: false, basis: 'DEFAULT', scope: 'PLATFORM', statement: null });
  });

  it('gives an artist\'s own consent one party: MAIN, the artist', async () => {
    const d = await decision(anArtistRef('a-vocal'), 'VOICE_REPLICATION');
    expect(d.parties).toEqual([{ artistId: 'a-vocal', role: 'MAIN', allowed: false, basis: 'EXPLICIT', scope: 'ARTIST' }]);
  });

  it('exports the combined decisions as signals (CAWG, TDMRep, aipref)', async () => {
    const res = await subgraph.query(SIGNALS, { representations: [aCreditedTrackRef('t-duet', 'a-main'), aCreditedTrackRef('t-duet', 'a-main', ['a-vocal'])] }, reader);
    expect(res.errors).toBeUndefined();
    const [alone, duet] = res.data._entities.map((e: any) => e.consent.signals);
    expect(JSON.parse(alone.cawg.json).entries['com.platform.ai_voice_replication']).toEqual({ use: 'allowed' });
    expect(JSON.parse(duet.cawg.json).entries['com.platform.ai_voice_replication']).toEqual({ use: 'notAllowed' });
    expect(JSON.parse(duet.cawg.json).entries['com.platform.ai_music_replication']).toEqual({ use: 'allowed' });
    // a-vocal never allowed AI_TRAINING or GENERATIVE_AI_TRAINING: both are reserved once a-vocal is credited.
    expect([alone.tdmReservation, alone.aipref]).toEqual([0, 'train-ai=y, ai-use=n']);
    expect([duet.tdmReservation, duet.aipref]).toEqual([1, 'train-ai=n, ai-use=n']);
  });

  it('takes credits per request in consentDecisions, in input order', async () => {
    const res = await subgraph.query(DECISIONS, {
      purpose: 'VOICE_REPLICATION',
      requests: [
        { artistId: 'a-main', trackId: 't-duet' },
        { artistId: 'a-main', trackId: 't-duet', featuredArtistIds: ['a-vocal'] },
        { artistId: 'a-remixer', trackId: 't-remix', originalArtistIds: ['a-orig'] },
        { artistId: 'a-vocal' },
      ],
    }, reader);
    expect(res.errors).toBeUndefined();
    expect(res.data.consentDecisions).toEqual([
      { allowed: true, scope: 'ARTIST', statement: { artistId: 'a-main' }, parties: [{ artistId: 'a-main', role: 'MAIN', allowed: true }] },
      { allowed: false, scope: 'ARTIST', statement: { artistId: 'a-vocal' }, parties: [{ artistId: 'a-main', role: 'MAIN', allowed: true }, { artistId: 'a-vocal', role: 'FEATURED', allowed: false }] },
      { allowed: false, scope: 'TRACK', statement: { artistId: 'a-orig' }, parties: [{ artistId: 'a-remixer', role: 'MAIN', allowed: true }, { artistId: 'a-orig', role: 'ORIGINAL', allowed: false }] },
      { allowed: false, scope: 'ARTIST', statement: { artistId: 'a-vocal' }, parties: [{ artistId: 'a-vocal', role: 'MAIN', allowed: false }] },
    ]);
  });

  it('applies each party\'s ledger as of asOf with the credits given now, in _entities and consentDecisions', async () => {
    const now = Date.now();
    const t1 = new Date(now - 60_000);
    const t2 = new Date(now - 30_000);
    await say('h-main', 'AI_INFERENCE', 'ALLOW', null, t1);
    await say('h-feat', 'AI_INFERENCE', 'ALLOW', null, t1);
    await say('h-feat', 'AI_INFERENCE', 'DENY', 't-hist', t2);
    const ref = aCreditedTrackRef('t-hist', 'h-main', ['h-feat']);

    const before = await decision(ref, 'AI_INFERENCE', new Date(t2.getTime() - 1));
    const after = await decision(ref, 'AI_INFERENCE', t2);
    expect(before).toMatchObject({ allowed: true, statement: { artistId: 'h-main' } });
    expect(before.parties.map((p: any) => p.allowed)).toEqual([true, true]);
    expect(after).toMatchObject({ allowed: false, scope: 'TRACK', statement: { artistId: 'h-feat', trackId: 't-hist' } });
    // Before either artist said anything, both were at the opt-in default.
    expect(await decision(ref, 'AI_INFERENCE', new Date(t1.getTime() - 1))).toMatchObject({ allowed: false, basis: 'DEFAULT' });

    const requests = [{ artistId: 'h-main', trackId: 't-hist', featuredArtistIds: ['h-feat'] }];
    const at = async (asOf: Date) => (await subgraph.query(DECISIONS, { requests, purpose: 'AI_INFERENCE', asOf: asOf.toISOString() }, reader)).data.consentDecisions[0];
    expect(await at(new Date(t2.getTime() - 1))).toMatchObject({ allowed: true });
    expect(await at(t2)).toMatchObject({ allowed: false, statement: { artistId: 'h-feat' } });
  });

  it.each([1, 10, 100, 1000])(
    `answers %i tracks crediting ${MAX_CREDITED_ARTISTS} featured and original artists each with 1 database read from a current cache, 2 from a stale one`,
    async (n) => {
      // Parties drawn from a pool, so artists repeat across tracks as in a real catalog.
      const pool = (i: number) => `p-${i % 97}`;
      const representations = Array.from({ length: n }, (_, t) => {
        const credited = Array.from({ length: MAX_CREDITED_ARTISTS }, (_, k) => pool(t * 7 + k));
        return aCreditedTrackRef(`t-many-${t}`, `m-${t % 13}`, credited.slice(0, 12), credited.slice(12));
      });
      await say('p-5', 'AI_TRAINING', 'ALLOW');
      const ask = () =>
        countReads(subgraph.store, () => subgraph.query(MANY_TRACKS, { representations, purpose: 'VOICE_REPLICATION' }, reader));
      await subgraph.store.cache!.refresh();
      await commitOnAnotherReplica(subgraph.store);
      const stale = await ask();
      await subgraph.store.cache!.refresh();
      const current = await ask();

      for (const { result } of [stale, current]) {
        expect(result.errors).toBeUndefined();
        expect(result.data._entities).toHaveLength(n);
        expect(result.data._entities.every((e: any) => e.consent.decision.parties.length === MAX_CREDITED_ARTISTS + 1)).toBe(true);
        // p-5's opt-in is read for exactly the tracks that credit it (everyone else there is at the opt-in default).
        const credits5 = representations.map((r) => [...r.featuredArtists, ...r.originalArtists].some((a) => a.id === 'p-5'));
        expect(result.data._entities.map((e: any) => e.consent.decision.parties.find((p: any) => p.artistId === 'p-5')?.allowed ?? null))
          .toEqual(credits5.map((credited) => (credited ? true : null)));
      }
      expect(current.result.data).toEqual(stale.result.data);
      expect({ stale: stale.reads, current: current.reads }).toEqual({ stale: 2, current: 1 });
    },
  );

  it('prices parties at their cap: every purpose with every party for 1000 tracks is over the request budget and refused before any read, 200 tracks fit', async () => {
    const ALL_PARTIES = /* GraphQL */ `
      query AllParties($representations: [_Any!]!) {
        _entities(representations: $representations) { ... on Track { consent { decisions { allowed parties { artistId role allowed } } } } }
      }`;
    const tracks = (n: number) => Array.from({ length: n }, (_, t) => aCreditedTrackRef(`t-cap-${t}`, 'm-cap', [`f-cap-${t % 5}`], []));
    const over = await countReads(subgraph.store, () => subgraph.query(ALL_PARTIES, { representations: tracks(1000) }, reader));
    expect(over.result.errors?.map((e) => e.extensions?.code)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
    expect(over.reads).toBe(0);
    const within = await subgraph.query(ALL_PARTIES, { representations: tracks(200) }, reader);
    expect(within.errors).toBeUndefined();
    expect(within.data._entities).toHaveLength(200);
  });
});

describe('a change by any credited party', () => {
  let subgraph: TestSubgraph;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    await subgraph.store.append(aSetChange('w-main', 'AI_TRAINING', { choice: 'ALLOW' }), 'app', new Date());
  });
  afterAll(() => subgraph.stop());

  it('lets a featured artist record their own choice for the track with their own token, stored under (self, track)', async () => {
    const vocalist = await writeToken(undefined, ['w-vocal'], 'vocalist-app');
    const input = { subject: { artistId: 'w-vocal', trackId: 't-w' }, purpose: 'VOICE_REPLICATION', choice: 'DENY', termsVersion: 'tos-1' };

    const own = await subgraph.query(SET, { input }, vocalist);
    expect(own.errors).toBeUndefined();
    expect(own.data.setConsent).toEqual({
      event: { artistId: 'w-vocal', trackId: 't-w', choice: 'DENY' },
      decision: { allowed: false, statement: { artistId: 'w-vocal' }, parties: [{ artistId: 'w-vocal', role: 'MAIN', allowed: false }] },
      track: { id: 't-w' },
    });

    const credits = { mainArtistId: 'w-main', featuredArtistIds: ['w-vocal'] };
    const withCredits = await subgraph.query(SET, { input: { ...input, source: 'again', credits } }, vocalist);
    expect(withCredits.errors).toBeUndefined();
    expect(withCredits.data.setConsent.decision).toEqual({
      allowed: false,
      statement: { artistId: 'w-vocal' },
      parties: [{ artistId: 'w-main', role: 'MAIN', allowed: true }, { artistId: 'w-vocal', role: 'FEATURED', allowed: false }],
    });

    // Cleared, the vocalist falls back to their artist-wide default (AI is opt-in), which still denies.
    const cleared = await subgraph.query(CLEAR, { input: { subject: input.subject, purpose: 'VOICE_REPLICATION', credits } }, vocalist);
    expect(cleared.errors).toBeUndefined();
    expect(cleared.data.clearConsent).toEqual({
      decision: { allowed: false, parties: [{ artistId: 'w-main', role: 'MAIN', allowed: true }, { artistId: 'w-vocal', role: 'FEATURED', allowed: false }] },
      track: { id: 't-w' },
    });
  });

  it('answers a credited track\'s decision as allowed once every party allows', async () => {
    const vocalist = await writeToken(undefined, ['w-vocal2'], 'vocalist-app-2');
    const credits = { mainArtistId: 'w-main', featuredArtistIds: ['w-vocal2'] };
    const res = await subgraph.query(SET, {
      input: { subject: { artistId: 'w-vocal2', trackId: 't-w2' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1', credits },
    }, vocalist);
    expect(res.errors).toBeUndefined();
    expect(res.data.setConsent.decision).toEqual({
      allowed: true,
      statement: { artistId: 'w-main' },
      parties: [{ artistId: 'w-main', role: 'MAIN', allowed: true }, { artistId: 'w-vocal2', role: 'FEATURED', allowed: true }],
    });
  });

  it('answers an artist-wide change with no track', async () => {
    const token = await writeToken(undefined, ['w-solo'], 'solo-app');
    const res = await subgraph.query(SET, { input: { subject: { artistId: 'w-solo' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1' } }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data.setConsent.track).toBeNull();
    expect(res.data.setConsent.decision.parties).toEqual([{ artistId: 'w-solo', role: 'MAIN', allowed: true }]);
  });
});
