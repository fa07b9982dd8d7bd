import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, decideAll, type Decision, type Scope, type StatementsInForce } from '../../src/consent/decide.js';
import { DEFAULT_POLICY, type Policy } from '../../src/consent/policy.js';
import { PURPOSES, type Purpose } from '../../src/consent/purposes.js';
import type { Choice, Statement } from '../../src/consent/statement.js';
import { aStatement, atOffset } from '../helpers/builders.js';
import { REF_AI, REF_PARENT } from '../helpers/referencePurposeTree.js';

const RUNS = { numRuns: 500 };

// ---------------------------------------------------------------------------------------------
// A reference model of DESIGN §2, written independently of src/consent: its own copy of the tree
// (test/helpers/referencePurposeTree.ts), its own idea of "in force", and a brute-force ranking of
// every statement instead of a walk.
// ---------------------------------------------------------------------------------------------

/** How many steps up from `purpose` to reach `about`, or null when `about` does not cover it. */
function refDistance(about: Purpose, purpose: Purpose): number | null {
  let steps = 0;
  let p: Purpose | null = purpose;
  while (p !== null) {
    if (p === about) return steps;
    steps += 1;
    p = REF_PARENT[p];
  }
  return null;
}

/** In force at t: made at or before t, the latest such about its purpose in its list, not expired. */
function refInForce(s: Statement, list: readonly Statement[], t: number): boolean {
  if (s.createdAt.getTime() > t) return false;
  const superseded = list.some(
    (o) => o !== s && o.purpose === s.purpose && o.createdAt.getTime() <= t && o.createdAt.getTime() > s.createdAt.getTime(),
  );
  if (superseded) return false;
  return s.expiresAt === null || t < s.expiresAt.getTime();
}

function refInForceList(list: readonly Statement[] | null, t: number): Statement[] {
  return list === null ? [] : list.filter((s) => refInForce(s, list, t));
}

function refDecide(purpose: Purpose, statements: StatementsInForce, at: Date, policy: Policy): Decision {
  const t = at.getTime();
  const ranked: Array<{ scope: 'TRACK' | 'ARTIST'; rank: number; distance: number; statement: Statement }> = [];
  const scopes = [
    ['TRACK', 0, statements.track],
    ['ARTIST', 1, statements.artist],
  ] as const;
  for (const [scope, rank, list] of scopes) {
    for (const statement of refInForceList(list, t)) {
      const distance = refDistance(statement.purpose, purpose);
      if (distance !== null) ranked.push({ scope, rank, distance, statement });
    }
  }
  ranked.sort((a, b) => a.rank - b.rank || a.distance - b.distance);
  const best = ranked[0];
  if (best === undefined) {
    return {
      purpose,
      allowed: policy.defaults[purpose] === 'ALLOW',
      basis: 'DEFAULT',
      scope: 'PLATFORM',
      statement: null,
      policyVersion: policy.version,
    };
  }
  return {
    purpose,
    allowed: best.statement.choice === 'ALLOW',
    basis: best.distance === 0 ? 'EXPLICIT' : 'INHERITED',
    scope: best.scope,
    statement: best.statement,
    policyVersion: policy.version,
  };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries. Times are whole seconds in a short window so that ties with the query time,
// exact expiries, superseded and expired-latest statements all come up often.
// ---------------------------------------------------------------------------------------------

const SECONDS = 20;
const purposeArb = fc.constantFrom(...PURPOSES);
const choiceArb = fc.constantFrom<Choice>('ALLOW', 'DENY');
const instantArb = fc.integer({ min: 0, max: SECONDS }).map((s) => atOffset(s * 1000));

interface RawStatement {
  purpose: Purpose;
  choice: Choice;
  createdAt: Date;
  expiresAt: Date | null;
}

const rawStatementArb: fc.Arbitrary<RawStatement> = fc.record({
  purpose: purposeArb,
  choice: choiceArb,
  createdAt: instantArb,
  // Any instant, so some expire before they are made, at the moment they are made, or later.
  expiresAt: fc.option(fc.integer({ min: 0, max: SECONDS + 2 }).map((s) => atOffset(s * 1000)), {
    nil: null,
    freq: 2,
  }),
});

// The ledger never holds two statements about one purpose made at the same instant for one subject,
// so neither do the generated lists: "the latest" is always unique.
function statementListArb(trackId: string | null, maxLength: number): fc.Arbitrary<Statement[]> {
  return fc
    .uniqueArray(rawStatementArb, {
      maxLength,
      selector: (s) => `${s.purpose}@${s.createdAt.getTime()}`,
    })
    .map((raws) =>
      raws.map((raw, i) => aStatement({ ...raw, id: `${trackId ?? 'artist'}-${i}`, trackId })),
    );
}

const statementsArb: fc.Arbitrary<StatementsInForce> = fc.record({
  track: fc.option(statementListArb('track-1', 10), { nil: null, freq: 4 }),
  artist: statementListArb(null, 10),
});

const policyArb: fc.Arbitrary<Policy> = fc.record({
  version: fc.string({ minLength: 1, maxLength: 12 }),
  defaults: fc.record(
    Object.fromEntries(PURPOSES.map((p) => [p, choiceArb])) as Record<Purpose, fc.Arbitrary<Choice>>,
  ),
});

const caseArb = fc.record({ purpose: purposeArb, statements: statementsArb, at: instantArb });

/** The in-force statements at `scope` about any purpose of `purpose`'s lineage. */
function inForceCovering(list: readonly Statement[] | null, purpose: Purpose, at: Date): Statement[] {
  return refInForceList(list, at.getTime()).filter((s) => refDistance(s.purpose, purpose) !== null);
}

describe('decide (properties)', () => {
  it('agrees with the brute-force reference model under the default policy', () => {
    fc.assert(
      fc.property(caseArb, ({ purpose, statements, at }) => {
        expect(decide(purpose, statements, at, DEFAULT_POLICY)).toEqual(refDecide(purpose, statements, at, DEFAULT_POLICY));
      }),
      RUNS,
    );
  });

  it('agrees with the brute-force reference model under any policy', () => {
    fc.assert(
      fc.property(caseArb, policyArb, ({ purpose, statements, at }, policy) => {
        expect(decide(purpose, statements, at, policy)).toEqual(refDecide(purpose, statements, at, policy));
      }),
      RUNS,
    );
  });

  it('never allows an AI purpose without an in-force ALLOW on it or an ancestor at some scope', () => {
    fc.assert(
      fc.property(caseArb, ({ purpose, statements, at }) => {
        fc.pre(REF_AI.has(purpose));
        const d = decide(purpose, statements, at, DEFAULT_POLICY);
        const allows = [
          ...inForceCovering(statements.track, purpose, at),
          ...inForceCovering(statements.artist, purpose, at),
        ].filter((s) => s.choice === 'ALLOW');
        if (allows.length === 0) expect(d.allowed).toBe(false);
        if (d.allowed) expect(allows).toContain(d.statement);
      }),
      RUNS,
    );
  });

  it('lets an in-force statement about the purpose itself decide EXPLICIT at its scope, over broader ones', () => {
    fc.assert(
      fc.property(caseArb, ({ purpose, statements, at }) => {
        const d = decide(purpose, statements, at, DEFAULT_POLICY);
        const levels: Array<[Scope, readonly Statement[] | null]> = [
          ['TRACK', statements.track],
          ['ARTIST', statements.artist],
        ];
        for (const [scope, list] of levels) {
          const covering = inForceCovering(list, purpose, at);
          const own = covering.find((s) => s.purpose === purpose);
          if (own !== undefined) {
            expect(d).toMatchObject({ scope, basis: 'EXPLICIT', allowed: own.choice === 'ALLOW' });
            expect(d.statement).toBe(own);
            return;
          }
          // Something broader at this scope decides: the nearest ancestor.
          if (covering.length > 0) {
            const nearest = covering.reduce((a, b) =>
              refDistance(a.purpose, purpose)! <= refDistance(b.purpose, purpose)! ? a : b,
            );
            expect(d).toMatchObject({ scope, basis: 'INHERITED' });
            expect(d.statement).toBe(nearest);
            return;
          }
        }
        expect(d.basis).toBe('DEFAULT');
      }),
      RUNS,
    );
  });

  it('keeps a decision when a broader statement is added at the same scope, however recent', () => {
    fc.assert(
      fc.property(caseArb, choiceArb, fc.nat(), ({ purpose, statements, at }, choice, pick) => {
        const d = decide(purpose, statements, at, DEFAULT_POLICY);
        fc.pre(d.statement !== null);
        const ancestors: Purpose[] = [];
        for (let p = REF_PARENT[d.statement!.purpose]; p !== null; p = REF_PARENT[p]) ancestors.push(p);
        fc.pre(ancestors.length > 0);
        // Made exactly at the query time, after every statement that counts, and never expiring.
        const broader = aStatement({
          id: 'added-broader',
          trackId: d.scope === 'TRACK' ? 'track-1' : null,
          purpose: ancestors[pick % ancestors.length]!,
          choice,
          createdAt: at,
        });
        const withBroader: StatementsInForce =
          d.scope === 'TRACK'
            ? { track: [...statements.track!, broader], artist: statements.artist }
            : { track: statements.track, artist: [...statements.artist, broader] };
        expect(decide(purpose, withBroader, at, DEFAULT_POLICY)).toEqual(d);
      }),
      RUNS,
    );
  });

  it('decides at TRACK scope whenever the track has an in-force statement on the purpose or an ancestor', () => {
    fc.assert(
      fc.property(caseArb, ({ purpose, statements, at }) => {
        const d = decide(purpose, statements, at, DEFAULT_POLICY);
        const trackCovering = inForceCovering(statements.track, purpose, at);
        expect(d.scope === 'TRACK').toBe(trackCovering.length > 0);
        if (d.scope === 'TRACK') expect(trackCovering).toContain(d.statement);
      }),
      RUNS,
    );
  });

  it('keeps a TRACK decision whatever the artist statements are', () => {
    fc.assert(
      fc.property(caseArb, statementListArb(null, 10), ({ purpose, statements, at }, otherArtist) => {
        const d = decide(purpose, statements, at, DEFAULT_POLICY);
        fc.pre(d.scope === 'TRACK');
        expect(decide(purpose, { track: statements.track, artist: otherArtist }, at, DEFAULT_POLICY)).toEqual(d);
      }),
      RUNS,
    );
  });

  it('reports the policy version, and a statement exactly when the basis is not DEFAULT', () => {
    fc.assert(
      fc.property(caseArb, policyArb, ({ purpose, statements, at }, policy) => {
        const d = decide(purpose, statements, at, policy);
        expect(d.purpose).toBe(purpose);
        expect(d.policyVersion).toBe(policy.version);
        expect(d.statement === null).toBe(d.basis === 'DEFAULT');
        expect(d.scope === 'PLATFORM').toBe(d.basis === 'DEFAULT');
        if (d.statement === null) {
          expect(d.allowed).toBe(policy.defaults[purpose] === 'ALLOW');
        } else {
          expect(d.allowed).toBe(d.statement.choice === 'ALLOW');
          expect(d.basis === 'EXPLICIT').toBe(d.statement.purpose === purpose);
          expect(refDistance(d.statement.purpose, purpose)).not.toBeNull();
          expect(d.statement.createdAt.getTime()).toBeLessThanOrEqual(at.getTime());
          if (d.statement.expiresAt !== null) expect(d.statement.expiresAt.getTime()).toBeGreaterThan(at.getTime());
        }
      }),
      RUNS,
    );
  });

  it('does not depend on the order of the statements in each list', () => {
    fc.assert(
      fc.property(caseArb, fc.nat(), ({ purpose, statements, at }, seed) => {
        const shuffle = <T>(xs: readonly T[]): T[] => {
          const out = [...xs];
          let s = seed;
          for (let i = out.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) % 2147483648;
            const j = s % (i + 1);
            [out[i], out[j]] = [out[j]!, out[i]!];
          }
          return out;
        };
        const shuffled: StatementsInForce = {
          track: statements.track === null ? null : shuffle(statements.track),
          artist: shuffle(statements.artist),
        };
        expect(decide(purpose, shuffled, at, DEFAULT_POLICY)).toEqual(decide(purpose, statements, at, DEFAULT_POLICY));
      }),
      RUNS,
    );
  });
});

describe('decideAll (properties)', () => {
  it('gives each purpose in tree order the decision decide gives it', () => {
    fc.assert(
      fc.property(statementsArb, instantArb, policyArb, (statements, at, policy) => {
        const all = decideAll(statements, at, policy);
        expect(all.map((d) => d.purpose)).toEqual([...PURPOSES]);
        expect(all).toEqual(PURPOSES.map((p) => refDecide(p, statements, at, policy)));
      }),
      { numRuns: 200 },
    );
  });
});
