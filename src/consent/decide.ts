import { InvalidInputError } from './errors.js';
import { lineage, PURPOSES, type Purpose } from './purposes.js';
import type { Policy } from './policy.js';
import { isInForce, type Statement } from './statement.js';

/** How a decision was reached. */
export type Basis = 'EXPLICIT' | 'INHERITED' | 'DEFAULT';

/** Where the deciding statement was found. */
export type Scope = 'TRACK' | 'ARTIST' | 'PLATFORM';

/** The answer for one purpose, with how it was reached. */
export interface Decision {
  readonly purpose: Purpose;
  readonly allowed: boolean;
  readonly basis: Basis;
  readonly scope: Scope;
  readonly statement: Statement | null;
  readonly policyVersion: string;
}

/**
 * The statements that may decide for one work, most specific scope first.
 * `track` is null when asking about the whole artist. Statements of the track must already be
 * limited to the track's real artist (the store keys them by artist and track).
 */
export interface StatementsInForce {
  readonly track: readonly Statement[] | null;
  readonly artist: readonly Statement[];
}

/**
 * Decides one purpose by DESIGN §2: the first scope (TRACK, then ARTIST) holding a statement in
 * force at `at` about the purpose or an ancestor decides, nearest purpose first; otherwise the policy.
 * Throws `InvalidInputError` for an invalid `at`.
 */
export function decide(purpose: Purpose, statements: StatementsInForce, at: Date, policy: Policy): Decision {
  // An invalid date compares false with everything, so every statement would look out of force and
  // the default would decide: an explicit DENY of an ALLOW-by-default purpose would become ALLOW.
  if (Number.isNaN(at.getTime())) {
    throw new InvalidInputError(`decide() needs a valid time, but got: ${String(at)}`);
  }
  const scopes: Array<[Scope, readonly Statement[] | null]> = [
    ['TRACK', statements.track],
    ['ARTIST', statements.artist],
  ];
  for (const [scope, list] of scopes) {
    if (list === null) continue;
    for (const candidate of lineage(purpose)) {
      const statement = findInForce(list, candidate, at);
      if (statement !== null) {
        return {
          purpose,
          allowed: statement.choice === 'ALLOW',
          basis: candidate === purpose ? 'EXPLICIT' : 'INHERITED',
          scope,
          statement,
          policyVersion: policy.version,
        };
      }
    }
  }
  return {
    purpose,
    allowed: policy.defaults[purpose] === 'ALLOW',
    basis: 'DEFAULT',
    scope: 'PLATFORM',
    statement: null,
    policyVersion: policy.version,
  };
}

/** Decides every purpose, in tree order. */
export function decideAll(statements: StatementsInForce, at: Date, policy: Policy): Decision[] {
  return PURPOSES.map((purpose) => decide(purpose, statements, at, policy));
}

// A subject holds at most one statement per purpose. If a caller passes several (a hand-built
// list), the latest made at or before `at` is the one in force, as the ledger would have it; an
// expired latest statement does not revive an older one.
function findInForce(list: readonly Statement[], purpose: Purpose, at: Date): Statement | null {
  let latest: Statement | null = null;
  for (const s of list) {
    if (s.purpose !== purpose || s.createdAt.getTime() > at.getTime()) continue;
    if (latest === null || s.createdAt.getTime() >= latest.createdAt.getTime()) latest = s;
  }
  return latest !== null && isInForce(latest, at) ? latest : null;
}

/** `decide` and `decideAll` bound to one policy, so the policy is chosen in one place. */
export interface Decider {
  readonly policy: Policy;
  decide(purpose: Purpose, statements: StatementsInForce, at: Date): Decision;
  decideAll(statements: StatementsInForce, at: Date): Decision[];
}

/** A decider for `policy`. */
export function createDecider(policy: Policy): Decider {
  return {
    policy,
    decide: (purpose, statements, at) => decide(purpose, statements, at, policy),
    decideAll: (statements, at) => decideAll(statements, at, policy),
  };
}
