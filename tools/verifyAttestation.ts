import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { ATTESTATION_JWS_TYPE } from '../src/attestationKeys.js';
import {
  attestedDecisionOf,
  countsOf,
  decideAttested,
  leafHash,
  merkleRoot,
  subjectsOfAttested,
  type AttestationStatement,
  type AttestedDecision,
} from '../src/consent/attestation.js';
import { DEFAULT_POLICY } from '../src/consent/policy.js';
import type { Statement } from '../src/consent/statement.js';
import type { ConsentStore } from '../src/store/ConsentStore.js';
import { openStore } from '../src/store/openStore.js';
import { subjectKey } from '../src/store/subjectKey.js';

/** What `verifyAttestation` found: every check held, or the first that failed, named. */
export type AttestationVerdict = { readonly ok: true; readonly decisions: number; readonly rederived: boolean } | { readonly ok: false; readonly failure: string };

/** The attestation is not something this tool can check (not an attestation, no keys): exit 2, not a verdict. */
export class CannotVerifyError extends Error {
  override name = 'CannotVerifyError';
}

/** An attestation as `trainingSetAttestation` returns it (JSON: dates as strings). */
interface AttestationJson {
  version: string;
  purpose: string;
  asOf: string;
  issuedAt: string;
  keyId: string;
  policyVersion: string;
  ledgerHead: { position: string; hash: string | null };
  counts: { total: number; allowed: number; denied: number };
  merkleRoot: string;
  decisions: AttestedDecision[];
  jws: string;
}

/**
 * Verifies a saved attestation (a GraphQL response holding `data.trainingSetAttestation`, or the
 * attestation object): the JWS signature against `jwks`, the signed payload against the response's
 * fields, every decision's leaf hash, the root and the counts; with `store`, the head event and
 * every decision re-derived from the ledger at `asOf` up to the head. Stops at the first failure.
 */
export async function verifyAttestation(input: unknown, options: { jwks: JSONWebKeySet; store?: ConsentStore }): Promise<AttestationVerdict> {
  const attestation = attestationOf(input);
  const fail = (failure: string): AttestationVerdict => ({ ok: false, failure });

  let payload: AttestationStatement;
  try {
    const { payload: bytes, protectedHeader } = await compactVerify(attestation.jws, createLocalJWKSet(options.jwks), { algorithms: ['EdDSA'] });
    if (protectedHeader.typ !== ATTESTATION_JWS_TYPE) return fail(`signature: the JWS typ is ${JSON.stringify(protectedHeader.typ)}, not ${ATTESTATION_JWS_TYPE}`);
    payload = JSON.parse(new TextDecoder().decode(bytes)) as AttestationStatement;
  } catch (error) {
    return fail(`signature: the JWS does not verify against the JWKS (${(error as Error).message})`);
  }

  // The response's own fields must be the ones signed: a reader looks at these, not at the payload.
  const signed: Array<[string, unknown, unknown]> = [
    ['version', attestation.version, payload.v],
    ['keyId', attestation.keyId, payload.kid],
    ['issuedAt', attestation.issuedAt, payload.issuedAt],
    ['asOf', attestation.asOf, payload.asOf],
    ['purpose', attestation.purpose, payload.purpose],
    ['policyVersion', attestation.policyVersion, payload.policyVersion],
    ['ledgerHead.position', attestation.ledgerHead?.position, String(payload.head?.position)],
    ['ledgerHead.hash', attestation.ledgerHead?.hash, payload.head?.hash],
    ['merkleRoot', attestation.merkleRoot, payload.root],
    ['counts', JSON.stringify(attestation.counts), JSON.stringify(payload.counts)],
    ['decisions (count)', attestation.decisions.length, payload.leafHashes?.length],
  ];
  for (const [field, shown, inPayload] of signed) {
    if (shown !== inPayload) return fail(`${field}: the response says ${JSON.stringify(shown)} but the signed payload says ${JSON.stringify(inPayload)}`);
  }
  for (let i = 0; i < attestation.decisions.length; i++) {
    const hash = leafHash(attestation.decisions[i]!);
    if (hash !== payload.leafHashes[i]) return fail(`decisions[${i}]: its leaf hash ${hash} is not the signed ${payload.leafHashes[i]}, so the decision was changed`);
  }
  const root = merkleRoot(payload.leafHashes);
  if (root !== payload.root) return fail(`merkleRoot: the leaf hashes give ${root}, not the signed ${payload.root}`);
  const counts = countsOf(attestation.decisions);
  if (JSON.stringify(counts) !== JSON.stringify(payload.counts)) return fail(`counts: the decisions give ${JSON.stringify(counts)}, not the signed ${JSON.stringify(payload.counts)}`);
  if (options.store === undefined) return { ok: true, decisions: attestation.decisions.length, rederived: false };

  const rederived = await rederive(attestation, payload, options.store);
  return rederived ?? { ok: true, decisions: attestation.decisions.length, rederived: true };
}

// Re-derives every decision from the ledger as the service read it: the head must still be the
// event signed, and each decision must come out the same from the statements up to that head.
async function rederive(attestation: AttestationJson, payload: AttestationStatement, store: ConsentStore): Promise<AttestationVerdict | null> {
  const fail = (failure: string): AttestationVerdict => ({ ok: false, failure });
  if (payload.policyVersion !== DEFAULT_POLICY.version) {
    return fail(`policyVersion: the attestation was decided under ${payload.policyVersion}; this verifier decides under ${DEFAULT_POLICY.version}`);
  }
  const position = payload.head.position;
  if (position > 0) {
    const event = await store.collections.events.findOne({ gseq: position }, { projection: { hash: 1 } });
    if (event === null || event.hash !== payload.head.hash) {
      return fail(`ledgerHead.hash: the ledger's event at position ${position} has hash ${JSON.stringify(event?.hash ?? null)}, not the signed ${payload.head.hash}`);
    }
  }
  const at = new Date(payload.asOf);
  const keys = [...new Set(attestation.decisions.flatMap((d) => subjectsOfAttested(d).map(subjectKey)))];
  const states = keys.length === 0 ? new Map<string, Statement[]>() : await store.statesAt(keys, at, position);
  for (let i = 0; i < attestation.decisions.length; i++) {
    const shown = attestation.decisions[i]!;
    const decision = decideAttested(shown, payload.purpose, at, DEFAULT_POLICY, (subject) => states.get(subjectKey(subject)) ?? []);
    const derived = attestedDecisionOf(shown, decision);
    const field = firstDifference(derived, shown);
    if (field !== null) {
      return fail(`decisions[${i}].${field.path}: the ledger at ${payload.asOf} (up to position ${position}) gives ${JSON.stringify(field.derived)}, the attestation says ${JSON.stringify(field.shown)}`);
    }
  }
  return null;
}

// The first field (in leaf order) where two decisions differ.
function firstDifference(derived: AttestedDecision, shown: AttestedDecision): { path: string; derived: unknown; shown: unknown } | null {
  const fields = ['purpose', 'allowed', 'basis', 'scope', 'statementId'] as const;
  for (const field of fields) {
    if (derived[field] !== shown[field]) return { path: field, derived: derived[field], shown: shown[field] };
  }
  for (let p = 0; p < Math.max(derived.parties.length, shown.parties.length); p++) {
    const a = derived.parties[p];
    const b = shown.parties[p];
    if (a === undefined || b === undefined) return { path: `parties[${p}]`, derived: a ?? null, shown: b ?? null };
    for (const field of ['artistId', 'role', 'allowed', 'statementId'] as const) {
      if (a[field] !== b[field]) return { path: `parties[${p}].${field}`, derived: a[field], shown: b[field] };
    }
  }
  return null;
}

// The attestation inside a saved GraphQL response, or the object itself.
function attestationOf(input: unknown): AttestationJson {
  const candidate = (input as { data?: { trainingSetAttestation?: unknown } } | null)?.data?.trainingSetAttestation ?? input;
  const a = candidate as Partial<AttestationJson> | null;
  if (typeof a !== 'object' || a === null || typeof a.jws !== 'string' || !Array.isArray(a.decisions)) {
    throw new CannotVerifyError('the file holds no attestation: expected a trainingSetAttestation response or object with jws and decisions');
  }
  return a as AttestationJson;
}

/** Reads a JWKS from an http(s) URL or a file (a JWKS, or one public JWK). */
export async function loadJwks(source: string): Promise<JSONWebKeySet> {
  let json: unknown;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source);
    if (!response.ok) throw new CannotVerifyError(`the JWKS at ${source} answered HTTP ${response.status}`);
    json = await response.json();
  } else {
    json = JSON.parse(await readFile(source, 'utf8'));
  }
  const keys = (json as { keys?: unknown }).keys;
  if (Array.isArray(keys)) return { keys } as JSONWebKeySet;
  if (typeof json === 'object' && json !== null && 'kty' in json) return { keys: [json] } as JSONWebKeySet;
  throw new CannotVerifyError(`${source} holds no JWKS ({"keys": […]}) or JWK`);
}

// `npm run attestation:verify -- FILE [--jwks URL|FILE]`: exit 0 when every check holds, 1 naming
// the first that fails, 2 when the check could not run.
async function main(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  const at = args.indexOf('--jwks');
  const jwksSource = at === -1 ? process.env.ATTESTATION_JWKS_URL : args.splice(at, 2)[1];
  const file = args[0];
  if (file === undefined || args.length !== 1) throw new CannotVerifyError('usage: npm run attestation:verify -- FILE [--jwks URL|FILE]');
  if (!jwksSource) throw new CannotVerifyError('no keys: pass --jwks URL|FILE or set ATTESTATION_JWKS_URL (the service\'s /.well-known/jwks.json)');
  const input = JSON.parse(await readFile(file, 'utf8')) as unknown;
  const jwks = await loadJwks(jwksSource);
  const uri = process.env.MONGODB_URI || null;
  const store = uri === null ? undefined : await openStore({ uri, dbName: process.env.MONGODB_DB || 'consent', timeoutMs: 60_000 });
  try {
    const verdict = await verifyAttestation(input, { jwks, store });
    if (!verdict.ok) {
      process.stdout.write(`FAILED ${verdict.failure}\n`);
      return 1;
    }
    process.stdout.write(`OK signature, ${verdict.decisions} leaves and the root verify${verdict.rederived ? '; every decision re-derived from the ledger' : ' (set MONGODB_URI to re-derive the decisions from the ledger)'}\n`);
    return 0;
  } finally {
    await store?.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`attestation:verify could not run: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
