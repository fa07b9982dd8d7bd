// A reference model of DESIGN §2 and §7 for the party property tests, written independently of
// src/consent: it imports only types from src/, uses its own copy of the purpose tree, reads a flat
// ledger (every statement of every subject in one list) instead of a per-subject lookup, ranks
// candidate statements by brute force, and combines the parties with its own rule.
import type { Policy } from '../../src/consent/policy.js';
import type { Statement } from '../../src/consent/statement.js';
import { REF_AI, REF_PARENT, type RefPurpose } from './referencePurposeTree.js';

/** A role as DESIGN §7 names it. */
export type RefRole = 'MAIN' | 'FEATURED' | 'ORIGINAL';

/** Credits as the catalog would send them, duplicates and all. */
export interface RefCredits {
  readonly mainArtistId: string;
  readonly featuredArtistIds: readonly string[];
  readonly originalArtistIds: readonly string[];
}

/** One party's answer in the reference model. */
export interface RefPartyDecision {
  artistId: string;
  role: RefRole;
  allowed: boolean;
  basis: 'EXPLICIT' | 'INHERITED' | 'DEFAULT';
  scope: 'TRACK' | 'ARTIST' | 'PLATFORM';
  statement: Statement | null;
}

/** The reference answer for one purpose on one track, shaped like the code's PartiesDecision. */
export interface RefPartiesDecision {
  purpose: RefPurpose;
  allowed: boolean;
  basis: RefPartyDecision['basis'];
  scope: RefPartyDecision['scope'];
  statement: Statement | null;
  policyVersion: string;
  parties: RefPartyDecision[];
}

/** Every credited artist once, under the role of its first appearance in MAIN, FEATURED, ORIGINAL order. */
export function refParties(credits: RefCredits): Array<{ artistId: string; role: RefRole }> {
  const all: Array<{ artistId: string; role: RefRole }> = [
    { artistId: credits.mainArtistId, role: 'MAIN' },
    ...credits.featuredArtistIds.map((artistId) => ({ artistId, role: 'FEATURED' as const })),
    ...credits.originalArtistIds.map((artistId) => ({ artistId, role: 'ORIGINAL' as const })),
  ];
  return all.filter((entry, i) => all.findIndex((other) => other.artistId === entry.artistId) === i);
}

/** Steps from `purpose` up to `about`, or null when `about` is not `purpose` or one of its ancestors. */
export function refDistance(about: RefPurpose, purpose: RefPurpose): number | null {
  let steps = 0;
  for (let p: RefPurpose | null = purpose; p !== null; p = REF_PARENT[p], steps++) {
    if (p === about) return steps;
  }
  return null;
}

// In force at t within one subject's statements: made at or before t, no later one about the same
// purpose made at or before t, and not expired at t.
function inForce(s: Statement, sameSubject: readonly Statement[], t: number): boolean {
  if (s.createdAt.getTime() > t) return false;
  const newer = sameSubject.some(
    (o) => o !== s && o.purpose === s.purpose && o.createdAt.getTime() <= t && o.createdAt.getTime() > s.createdAt.getTime(),
  );
  return !newer && (s.expiresAt === null || s.expiresAt.getTime() > t);
}

/**
 * DESIGN §2 for one artist on one work, straight from the flat ledger: the artist's statements about
 * `trackId` (when not null) outrank the artist's artist-wide ones; within a scope the nearest purpose wins.
 */
export function refDecideArtist(
  ledger: readonly Statement[],
  artistId: string,
  trackId: string | null,
  purpose: RefPurpose,
  at: Date,
  policy: Policy,
): Omit<RefPartyDecision, 'artistId' | 'role'> {
  const t = at.getTime();
  const scopes: Array<{ scope: 'TRACK' | 'ARTIST'; of: string | null }> = [];
  if (trackId !== null) scopes.push({ scope: 'TRACK', of: trackId });
  scopes.push({ scope: 'ARTIST', of: null });
  const candidates: Array<{ rank: number; distance: number; scope: 'TRACK' | 'ARTIST'; statement: Statement }> = [];
  scopes.forEach(({ scope, of }, rank) => {
    const subject = ledger.filter((s) => s.artistId === artistId && s.trackId === of);
    for (const statement of subject) {
      const distance = refDistance(statement.purpose, purpose);
      if (distance !== null && inForce(statement, subject, t)) candidates.push({ rank, distance, scope, statement });
    }
  });
  candidates.sort((a, b) => a.rank - b.rank || a.distance - b.distance);
  const best = candidates[0];
  if (best === undefined) {
    return { allowed: policy.defaults[purpose] === 'ALLOW', basis: 'DEFAULT', scope: 'PLATFORM', statement: null };
  }
  return {
    allowed: best.statement.choice === 'ALLOW',
    basis: best.distance === 0 ? 'EXPLICIT' : 'INHERITED',
    scope: best.scope,
    statement: best.statement,
  };
}

/**
 * DESIGN §7 for one purpose on track `trackId`: every party decided alone; an AI purpose needs them
 * all and reports them all, any other purpose is the main artist's alone; the answer's own fields
 * come from the first party that denies, else from the main artist.
 */
export function refDecideTrack(
  ledger: readonly Statement[],
  credits: RefCredits,
  trackId: string,
  purpose: RefPurpose,
  at: Date,
  policy: Policy,
): RefPartiesDecision {
  const counted = REF_AI.has(purpose) ? refParties(credits) : refParties(credits).filter((p) => p.role === 'MAIN');
  const parties: RefPartyDecision[] = counted.map((p) => ({
    ...p,
    ...refDecideArtist(ledger, p.artistId, trackId, purpose, at, policy),
  }));
  const allowed = parties.every((p) => p.allowed);
  const deciding = allowed ? parties[0]! : parties.find((p) => !p.allowed)!;
  return {
    purpose,
    allowed,
    basis: deciding.basis,
    scope: deciding.scope,
    statement: deciding.statement,
    policyVersion: policy.version,
    parties,
  };
}
