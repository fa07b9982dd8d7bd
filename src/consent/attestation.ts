import { createHash } from 'node:crypto';
import { partiesOf, type CreditRole, type Party } from './credits.js';
import type { Basis, Scope } from './decide.js';
import { decideParties, statementsOfParties, trackSubjectsOf, type PartiesDecision } from './parties.js';
import type { Policy } from './policy.js';
import type { Purpose } from './purposes.js';
import type { Statement, Subject } from './statement.js';

/** The version tag that opens every canonical leaf; a change of the leaf's fields or order gets a new one. */
export const LEAF_VERSION = 'consent-decision/1';

/** The version of the signed statement's layout (the JWS payload's `v`). */
export const STATEMENT_VERSION = 'consent-attestation/1';

/** One credited party of an attested decision: only what a verifier needs to re-derive and compare. */
export interface AttestedParty {
  readonly artistId: string;
  readonly role: CreditRole;
  readonly allowed: boolean;
  readonly statementId: string | null;
}

/** One attested decision: the request as asked (subject and credits) and the answer, with every party. */
export interface AttestedDecision {
  readonly artistId: string;
  readonly trackId: string | null;
  readonly featuredArtistIds: readonly string[];
  readonly originalArtistIds: readonly string[];
  readonly purpose: Purpose;
  readonly allowed: boolean;
  readonly basis: Basis;
  readonly scope: Scope;
  readonly statementId: string | null;
  readonly parties: readonly AttestedParty[];
}

/** The request half of an attested decision: whose decision, over which credits. */
export interface AttestedRequest {
  readonly artistId: string;
  readonly trackId: string | null;
  readonly featuredArtistIds: readonly string[];
  readonly originalArtistIds: readonly string[];
}

/** The ledger position an attestation was read at: the highest global position and that event's hash (null for an empty ledger). */
export interface LedgerHead {
  readonly position: number;
  readonly hash: string | null;
}

/** What the service signs (the JWS payload): everything of an attestation but the decisions themselves, which `leafHashes` commit to. */
export interface AttestationStatement {
  readonly v: typeof STATEMENT_VERSION;
  readonly kid: string;
  readonly issuedAt: string;
  readonly asOf: string;
  readonly purpose: Purpose;
  readonly policyVersion: string;
  readonly head: LedgerHead;
  readonly counts: { readonly total: number; readonly allowed: number; readonly denied: number };
  /** Hex SHA-256 Merkle root over `leafHashes` (see {@link merkleRoot}). */
  readonly root: string;
  /** Hex SHA-256 leaf hash of each decision, in input order. */
  readonly leafHashes: readonly string[];
}

/** An attested decision from a request and the decision made for it. */
export function attestedDecisionOf(request: AttestedRequest, decision: PartiesDecision): AttestedDecision {
  return {
    artistId: request.artistId,
    trackId: request.trackId,
    featuredArtistIds: request.featuredArtistIds,
    originalArtistIds: request.originalArtistIds,
    purpose: decision.purpose,
    allowed: decision.allowed,
    basis: decision.basis,
    scope: decision.scope,
    statementId: decision.statement?.id ?? null,
    parties: decision.parties.map((p) => ({ artistId: p.artistId, role: p.role, allowed: p.allowed, statementId: p.statement?.id ?? null })),
  };
}

/**
 * The canonical leaf of a decision: a JSON array in a fixed order (version, artistId, trackId,
 * featured and original credits, purpose, allowed, basis, scope, deciding statement id, then each
 * party as [artistId, role, allowed, statement id]). Built from the fields by position, so the
 * order of keys in whatever object was passed in never changes the bytes.
 */
export function canonicalLeaf(d: AttestedDecision): string {
  return JSON.stringify([
    LEAF_VERSION,
    d.artistId,
    d.trackId,
    [...d.featuredArtistIds],
    [...d.originalArtistIds],
    d.purpose,
    d.allowed,
    d.basis,
    d.scope,
    d.statementId,
    d.parties.map((p) => [p.artistId, p.role, p.allowed, p.statementId]),
  ]);
}

// RFC 6962 §2.1 domain separation: a leaf can never be mistaken for an inner node, so no second
// preimage can pass a subtree off as a decision.
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** The hex SHA-256 leaf hash of a decision: SHA-256(0x00 ‖ canonical leaf as UTF-8). */
export function leafHash(decision: AttestedDecision): string {
  return createHash('sha256').update(LEAF_PREFIX).update(canonicalLeaf(decision), 'utf8').digest('hex');
}

/**
 * The hex Merkle root over hex leaf hashes, in the given order: pairs are hashed as
 * SHA-256(0x01 ‖ left ‖ right), level by level, and an odd last node is promoted unchanged to the
 * next level; the empty set's root is SHA-256 of nothing, as in RFC 6962.
 */
export function merkleRoot(leafHashes: readonly string[]): string {
  if (leafHashes.length === 0) return createHash('sha256').digest('hex');
  let level: Buffer[] = leafHashes.map((hex) => Buffer.from(hex, 'hex'));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      next.push(right === undefined ? level[i]! : createHash('sha256').update(NODE_PREFIX).update(level[i]!).update(right).digest());
    }
    level = next;
  }
  return level[0]!.toString('hex');
}

/** Allowed and denied counts of attested decisions. */
export function countsOf(decisions: readonly AttestedDecision[]): AttestationStatement['counts'] {
  const allowed = decisions.filter((d) => d.allowed).length;
  return { total: decisions.length, allowed, denied: decisions.length - allowed };
}

/** The statement to sign for `decisions`, read at `head` and decided as of `asOf`. */
export function attestationStatement(fields: {
  kid: string;
  issuedAt: Date;
  asOf: Date;
  purpose: Purpose;
  policyVersion: string;
  head: LedgerHead;
  decisions: readonly AttestedDecision[];
}): AttestationStatement {
  const leafHashes = fields.decisions.map(leafHash);
  return {
    v: STATEMENT_VERSION,
    kid: fields.kid,
    issuedAt: fields.issuedAt.toISOString(),
    asOf: fields.asOf.toISOString(),
    purpose: fields.purpose,
    policyVersion: fields.policyVersion,
    head: { position: fields.head.position, hash: fields.head.hash },
    counts: countsOf(fields.decisions),
    root: merkleRoot(leafHashes),
    leafHashes,
  };
}

/** The parties of an attested request: the artist alone, or the track's main artist then its credits (as partiesOf). */
export function partiesOfAttested(request: AttestedRequest): Party[] {
  if (request.trackId === null) return [{ artistId: request.artistId, role: 'MAIN' }];
  return partiesOf({ mainArtistId: request.artistId, featuredArtistIds: request.featuredArtistIds, originalArtistIds: request.originalArtistIds });
}

/** The subjects whose statements an attested request's decision needs. */
export function subjectsOfAttested(request: AttestedRequest): Subject[] {
  const parties = partiesOfAttested(request);
  return request.trackId === null ? parties.map(({ artistId }) => ({ artistId, trackId: null })) : trackSubjectsOf(request.trackId, parties);
}

/**
 * Decides one attested request by DESIGN §2 and §7 at `at`, each subject's statements found through
 * `lookup`: what the service attests and what a verifier re-derives, so both run the same rule.
 */
export function decideAttested(
  request: AttestedRequest,
  purpose: Purpose,
  at: Date,
  policy: Policy,
  lookup: (subject: Subject) => readonly Statement[],
): PartiesDecision {
  return decideParties(purpose, statementsOfParties(partiesOfAttested(request), request.trackId, lookup), at, policy);
}
