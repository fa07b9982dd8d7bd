import type { CreditRole, Party } from './credits.js';
import { decide, type Basis, type Decision, type Scope, type StatementsInForce } from './decide.js';
import type { Policy } from './policy.js';
import { isAiPurpose, PURPOSES, type Purpose } from './purposes.js';
import type { Statement, Subject } from './statement.js';

/** One credited party's own answer for a purpose, decided by DESIGN §2 on that party's statements alone. */
export interface PartyDecision {
  readonly artistId: string;
  readonly role: CreditRole;
  readonly allowed: boolean;
  readonly basis: Basis;
  readonly scope: Scope;
  readonly statement: Statement | null;
}

/** A decision over every credited party (DESIGN §7): the deciding party's fields, and each party that counted. */
export type PartiesDecision = Decision & { readonly parties: readonly PartyDecision[] };

/** A party with the statements that may decide for it on the work asked about. */
export type PartyStatements = Party & { readonly statements: StatementsInForce };

/** The subjects whose statements a track's decision needs: each party on this track, then each party artist-wide. */
export function trackSubjectsOf(trackId: string, parties: readonly Party[]): Subject[] {
  // Nobody else's statements about the track are asked for: that is what keeps a statement filed
  // under (X, track) from counting unless the catalog credits X on the track.
  const subjects: Subject[] = [];
  for (const { artistId } of parties) subjects.push({ artistId, trackId }, { artistId, trackId: null });
  return subjects;
}

/**
 * Gathers each party's track statements and artist-wide statements through `lookup`, which must
 * return those filed under exactly the subject it is given (a null `trackId` looks up artist-wide only).
 */
export function statementsOfParties(
  parties: readonly Party[],
  trackId: string | null,
  lookup: (subject: Subject) => readonly Statement[],
): PartyStatements[] {
  return parties.map(({ artistId, role }) => ({
    artistId,
    role,
    statements: {
      track: trackId === null ? null : lookup({ artistId, trackId }),
      artist: lookup({ artistId, trackId: null }),
    },
  }));
}

/**
 * Decides one purpose over the parties (MAIN first) by DESIGN §7, taking the top-level fields from
 * the first party that denies, else MAIN; throws InvalidInputError for an invalid `at`.
 */
export function decideParties(
  purpose: Purpose,
  partyStatements: readonly PartyStatements[],
  at: Date,
  policy: Policy,
): PartiesDecision {
  // AI purposes need every party to allow and list every party; RECOMMENDATION and ADVERTISING are
  // MAIN's alone and list only MAIN, so the others are not even decided. An artist listed again
  // (a hand-built list) counts once, under its first role, as partiesOf would have it.
  const main = partyStatements[0];
  // Without MAIN first there is no one whose answer stands when nobody denies: a programming error,
  // thrown rather than answered so it can never turn into an allow.
  if (main === undefined || main.role !== 'MAIN') {
    throw new Error(`decideParties() needs the MAIN party first, but got: ${main === undefined ? 'no parties' : main.role}`);
  }
  const mainDecision = decide(purpose, main.statements, at, policy);
  const parties: PartyDecision[] = [partyDecision(main, mainDecision)];
  let deciding: Decision = mainDecision;
  let denied = !mainDecision.allowed;
  if (isAiPurpose(purpose)) {
    for (let i = 1; i < partyStatements.length; i++) {
      const party = partyStatements[i]!;
      if (parties.some((p) => p.artistId === party.artistId)) continue;
      const decision = decide(purpose, party.statements, at, policy);
      parties.push(partyDecision(party, decision));
      if (!denied && !decision.allowed) {
        deciding = decision;
        denied = true;
      }
    }
  }
  return {
    purpose,
    allowed: deciding.allowed,
    basis: deciding.basis,
    scope: deciding.scope,
    statement: deciding.statement,
    policyVersion: policy.version,
    parties,
  };
}

/** Decides every purpose over the parties, in tree order; throws InvalidInputError for an invalid `at`. */
export function decideAllParties(
  partyStatements: readonly PartyStatements[],
  at: Date,
  policy: Policy,
): PartiesDecision[] {
  return PURPOSES.map((purpose) => decideParties(purpose, partyStatements, at, policy));
}

function partyDecision(party: Party, decision: Decision): PartyDecision {
  return {
    artistId: party.artistId,
    role: party.role,
    allowed: decision.allowed,
    basis: decision.basis,
    scope: decision.scope,
    statement: decision.statement,
  };
}
