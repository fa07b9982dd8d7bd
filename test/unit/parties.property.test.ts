import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { partiesOf, type Credits } from '../../src/consent/credits.js';
import { decideAll } from '../../src/consent/decide.js';
import {
  decideAllParties,
  decideParties,
  statementsOfParties,
  trackSubjectsOf,
  type PartiesDecision,
  type PartyStatements,
} from '../../src/consent/parties.js';
import { DEFAULT_POLICY, type Policy } from '../../src/consent/policy.js';
import { PURPOSES, type Purpose } from '../../src/consent/purposes.js';
import type { Choice, Statement, Subject } from '../../src/consent/statement.js';
import { aStatement, atOffset } from '../helpers/builders.js';
import { refDecideArtist, refDecideTrack, refParties } from '../helpers/referenceParties.js';
import { REF_AI } from '../helpers/referencePurposeTree.js';

const RUNS = { numRuns: 500 };

// The track every case asks about, and another one whose statements must never count for it.
const TRACK = 'T';
const OTHER_TRACK = 'U';
// A small pool, so that the same artist turns up in several roles and uncredited artists hold
// statements about the track.
const ARTISTS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'] as const;

// ---------------------------------------------------------------------------------------------
// Arbitraries. Times are whole seconds in a short window so that ties with the query time, exact
// expiries and superseded statements come up often.
// ---------------------------------------------------------------------------------------------

const SECONDS = 20;
const purposeArb = fc.constantFrom(...PURPOSES);
const aiPurposeArb = fc.constantFrom(...PURPOSES.filter((p) => REF_AI.has(p)));
const choiceArb = fc.constantFrom<Choice>('ALLOW', 'DENY');
const instantArb = fc.integer({ min: 0, max: SECONDS }).map((s) => atOffset(s * 1000));
const artistArb = fc.constantFrom(...ARTISTS);

function ledgerArb(artists: fc.Arbitrary<string>, trackIds: ReadonlyArray<string | null>, idPrefix: string, maxLength: number): fc.Arbitrary<Statement[]> {
  const raw = fc.record({
    artistId: artists,
    trackId: fc.constantFrom(...trackIds),
    purpose: purposeArb,
    choice: choiceArb,
    createdAt: instantArb,
    expiresAt: fc.option(fc.integer({ min: 0, max: SECONDS + 2 }).map((s) => atOffset(s * 1000)), { nil: null, freq: 2 }),
  });
  // The ledger never holds two statements about one purpose made at the same instant for one
  // subject, so "the latest" is always unique.
  return fc
    .uniqueArray(raw, { maxLength, selector: (s) => `${s.artistId}/${s.trackId}/${s.purpose}@${s.createdAt.getTime()}` })
    .map((raws) => raws.map((r, i) => aStatement({ ...r, id: `${idPrefix}-${i}` })));
}

const ledger = ledgerArb(artistArb, [TRACK, TRACK, null, null, OTHER_TRACK], 's', 40);

// Credits as a catalog might send them: any artist of the pool in any role, repeats included.
const creditsArb: fc.Arbitrary<Credits> = fc.record({
  mainArtistId: artistArb,
  featuredArtistIds: fc.array(artistArb, { maxLength: 4 }),
  originalArtistIds: fc.array(artistArb, { maxLength: 4 }),
});

const policyArb: fc.Arbitrary<Policy> = fc.record({
  version: fc.string({ minLength: 1, maxLength: 12 }),
  defaults: fc.record(Object.fromEntries(PURPOSES.map((p) => [p, choiceArb])) as Record<Purpose, fc.Arbitrary<Choice>>),
});

const caseArb = fc.record({ ledger, credits: creditsArb, purpose: purposeArb, at: instantArb });
const aiCaseArb = fc.record({ ledger, credits: creditsArb, purpose: aiPurposeArb, at: instantArb });

// ---------------------------------------------------------------------------------------------
// The code under test, wired as the store will wire it: the ledger indexed by subject, asked only
// for the subjects trackSubjectsOf names.
// ---------------------------------------------------------------------------------------------

const keyOf = (s: Subject): string => `${s.artistId}/${s.trackId ?? ''}`;

function gather(ledgerStatements: readonly Statement[], credits: Credits, trackId: string | null = TRACK): PartyStatements[] {
  const index = new Map<string, Statement[]>();
  for (const s of ledgerStatements) index.set(keyOf(s), [...(index.get(keyOf(s)) ?? []), s]);
  const parties = partiesOf(credits);
  const prefetched = new Set(trackId === null ? [] : trackSubjectsOf(trackId, parties).map(keyOf));
  return statementsOfParties(parties, trackId, (subject) => {
    if (trackId !== null && !prefetched.has(keyOf(subject))) throw new Error(`looked up ${keyOf(subject)}, which trackSubjectsOf did not name`);
    return index.get(keyOf(subject)) ?? [];
  });
}

function decideTrack(ledgerStatements: readonly Statement[], credits: Credits, purpose: Purpose, at: Date, policy: Policy = DEFAULT_POLICY): PartiesDecision {
  return decideParties(purpose, gather(ledgerStatements, credits), at, policy);
}

function credited(credits: Credits): Set<string> {
  return new Set([credits.mainArtistId, ...credits.featuredArtistIds, ...credits.originalArtistIds]);
}

describe('decideParties (properties)', () => {
  it('agrees with the independent reference model under the default policy', () => {
    fc.assert(
      fc.property(caseArb, ({ ledger, credits, purpose, at }) => {
        expect(decideTrack(ledger, credits, purpose, at)).toEqual(refDecideTrack(ledger, credits, TRACK, purpose, at, DEFAULT_POLICY));
      }),
      RUNS,
    );
  });

  it('agrees with the independent reference model under any policy', () => {
    fc.assert(
      fc.property(caseArb, policyArb, ({ ledger, credits, purpose, at }, policy) => {
        expect(decideTrack(ledger, credits, purpose, at, policy)).toEqual(refDecideTrack(ledger, credits, TRACK, purpose, at, policy));
      }),
      RUNS,
    );
  });

  it('(a) allows an AI purpose exactly when every credited party, decided alone, allows it, and lists them all', () => {
    fc.assert(
      fc.property(aiCaseArb, policyArb, ({ ledger, credits, purpose, at }, policy) => {
        const alone = refParties(credits).map((p) => refDecideArtist(ledger, p.artistId, TRACK, purpose, at, policy).allowed);
        const d = decideTrack(ledger, credits, purpose, at, policy);
        expect(d.allowed).toBe(alone.every(Boolean));
        expect(d.parties.map((p) => p.allowed)).toEqual(alone);
      }),
      RUNS,
    );
  });

  it('(b) denies an AI purpose whenever any one party denies it, whatever the others say', () => {
    fc.assert(
      fc.property(aiCaseArb, fc.nat(), ({ ledger, credits, purpose, at }, pick) => {
        const parties = refParties(credits);
        const denier = parties[pick % parties.length]!;
        // An in-force track DENY about the purpose itself, the latest of its subject at `at`.
        const deny = aStatement({ id: 'the-deny', artistId: denier.artistId, trackId: TRACK, purpose, choice: 'DENY', createdAt: at });
        const withDeny = [
          ...ledger.filter((s) => !(s.artistId === denier.artistId && s.trackId === TRACK && s.purpose === purpose && s.createdAt.getTime() === at.getTime())),
          deny,
        ];
        const d = decideTrack(withDeny, credits, purpose, at);
        expect(d.allowed).toBe(false);
        expect(d.parties.find((p) => p.artistId === denier.artistId)?.statement).toBe(deny);
        // The deciding party is a denier no later in credit order than the one we added.
        const first = d.parties.findIndex((p) => !p.allowed);
        expect(first).toBeLessThanOrEqual(parties.indexOf(denier));
      }),
      RUNS,
    );
  });

  it('(c) decides RECOMMENDATION and ADVERTISING by the main artist alone, whatever the other parties say', () => {
    const purposes = fc.constantFrom<Purpose>('RECOMMENDATION', 'ADVERTISING');
    const othersSay = ledgerArb(artistArb, [TRACK, null], 'other', 20);
    fc.assert(
      fc.property(ledger, creditsArb, purposes, instantArb, othersSay, (statements, credits, purpose, at, extra) => {
        const mainOnly: Credits = { mainArtistId: credits.mainArtistId, featuredArtistIds: [], originalArtistIds: [] };
        const d = decideTrack(statements, credits, purpose, at);
        expect(d).toEqual(decideTrack(statements, mainOnly, purpose, at));
        expect(d.parties.map((p) => [p.artistId, p.role])).toEqual([[credits.mainArtistId, 'MAIN']]);
        // Whatever the non-main parties have said: their statements replaced by others.
        const notMain = (s: Statement): boolean => s.artistId !== credits.mainArtistId;
        const mainsOwn = statements.filter((s) => !notMain(s));
        const othersReplaced = [...mainsOwn, ...extra.filter(notMain)];
        expect(decideTrack(othersReplaced, credits, purpose, at)).toEqual(d);
      }),
      RUNS,
    );
  });

  it('(d) counts an artist credited twice once, under its first role', () => {
    fc.assert(
      fc.property(caseArb, fc.nat(), fc.nat(), ({ ledger, credits, purpose, at }, i, j) => {
        // Repeats placed after the first appearance: a featured repeat of the main or a featured
        // artist, an original repeat of anyone.
        const earlierForFeatured = [credits.mainArtistId, ...credits.featuredArtistIds];
        const everyone = [...earlierForFeatured, ...credits.originalArtistIds];
        const repeated: Credits = {
          mainArtistId: credits.mainArtistId,
          featuredArtistIds: [...credits.featuredArtistIds, earlierForFeatured[i % earlierForFeatured.length]!],
          originalArtistIds: [...credits.originalArtistIds, everyone[j % everyone.length]!],
        };
        const d = decideTrack(ledger, repeated, purpose, at);
        expect(d).toEqual(decideTrack(ledger, credits, purpose, at));
        const ids = d.parties.map((p) => p.artistId);
        expect(new Set(ids).size).toBe(ids.length);
        expect(partiesOf(repeated)).toEqual(refParties(repeated));
      }),
      RUNS,
    );
  });

  it('(e) ignores statements filed under the track by artists the catalog does not credit on it', () => {
    const strangers = ledgerArb(fc.constantFrom('x0', 'x1'), [TRACK], 'stranger', 10).filter((s) => s.length > 0);
    fc.assert(
      fc.property(caseArb, strangers, policyArb, ({ ledger, credits, purpose, at }, stranger, policy) => {
        const parties = credited(credits);
        const withStrangers = [...ledger, ...stranger];
        const onlyCredited = withStrangers.filter((s) => s.trackId !== TRACK || parties.has(s.artistId));
        expect(withStrangers.length).toBeGreaterThan(onlyCredited.length);
        expect(decideTrack(withStrangers, credits, purpose, at, policy)).toEqual(decideTrack(onlyCredited, credits, purpose, at, policy));
      }),
      RUNS,
    );
  });

  it("(f) takes the top-level fields from the first denying party, else from MAIN", () => {
    fc.assert(
      fc.property(caseArb, policyArb, ({ ledger, credits, purpose, at }, policy) => {
        const d = decideTrack(ledger, credits, purpose, at, policy);
        const counted = REF_AI.has(purpose) ? refParties(credits) : refParties(credits).slice(0, 1);
        const alone = counted.map((p) => refDecideArtist(ledger, p.artistId, TRACK, purpose, at, policy));
        const deciding = alone.find((p) => !p.allowed) ?? alone[0]!;
        expect({ allowed: d.allowed, basis: d.basis, scope: d.scope, statement: d.statement }).toEqual(deciding);
        expect(d.policyVersion).toBe(policy.version);
        expect(d.purpose).toBe(purpose);
      }),
      RUNS,
    );
  });

  it("(g) with no extra credits answers exactly as today's decide() for every purpose, track or artist", () => {
    fc.assert(
      fc.property(ledger, artistArb, instantArb, policyArb, fc.boolean(), fc.boolean(), fc.boolean(), (statements, main, at, policy, askTrack, againFeatured, againOriginal) => {
        // The main artist credited again in the other roles is still no extra credit.
        const credits: Credits = { mainArtistId: main, featuredArtistIds: againFeatured ? [main] : [], originalArtistIds: againOriginal ? [main] : [] };
        const trackId = askTrack ? TRACK : null;
        const own = (of: string | null): Statement[] => statements.filter((s) => s.artistId === main && s.trackId === of);
        const today = decideAll({ track: trackId === null ? null : own(trackId), artist: own(null) }, at, policy);
        const now = decideAllParties(gather(statements, credits, trackId), at, policy);
        expect(now.map(({ parties: _parties, ...top }) => top)).toEqual(today);
        expect(now.map((d) => d.parties)).toEqual(
          today.map((t) => [{ artistId: main, role: 'MAIN', allowed: t.allowed, basis: t.basis, scope: t.scope, statement: t.statement }]),
        );
      }),
      RUNS,
    );
  });

  it('decideAllParties gives each purpose, in tree order, the reference answer over every party', () => {
    fc.assert(
      fc.property(ledger, creditsArb, instantArb, policyArb, (statements, credits, at, policy) => {
        expect(decideAllParties(gather(statements, credits), at, policy)).toEqual(
          PURPOSES.map((purpose) => refDecideTrack(statements, credits, TRACK, purpose, at, policy)),
        );
      }),
      RUNS,
    );
  });
});
