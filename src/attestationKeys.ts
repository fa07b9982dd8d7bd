import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { AttestationStatement } from './consent/attestation.js';

/** The key attestations are signed with, and the public keys a verifier may check them against. */
export interface AttestationKeys {
  /** The `kid` of the signing key, carried in every attestation and its JWS header. */
  readonly kid: string;
  /** The JWKS served at `/.well-known/jwks.json`: the current public key, then the retired ones. */
  readonly jwks: { readonly keys: readonly JWK[] };
  /** Signs a statement as an EdDSA (Ed25519) compact JWS, its payload the statement's JSON. */
  sign(statement: AttestationStatement): Promise<string>;
}

/** The JWS header `typ` of an attestation, so it can't be taken for a token or another signed object. */
export const ATTESTATION_JWS_TYPE = 'consent-attestation+jws';

/**
 * Signing keys from an Ed25519 private JWK (with `kid`) and retired public JWKs; the private part
 * never leaves this object (the JWKS holds public members only).
 */
export async function createAttestationKeys(privateJwk: JWK, retired: readonly JWK[] = []): Promise<AttestationKeys> {
  const kid = privateJwk.kid!;
  const key = await importJWK({ ...privateJwk, alg: 'EdDSA' }, 'EdDSA');
  const current = publicJwkOf(privateJwk);
  return {
    kid,
    jwks: Object.freeze({ keys: Object.freeze([current, ...retired.map(publicJwkOf)]) }),
    sign: (statement) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(statement))).setProtectedHeader({ alg: 'EdDSA', kid, typ: ATTESTATION_JWS_TYPE }).sign(key),
  };
}

/** A fresh Ed25519 private JWK with a random `kid`: development's key when none is configured, and tests'. */
export async function generateAttestationJwk(kid = `dev-${crypto.randomUUID()}`): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' };
}

/** The public members of an Ed25519 JWK, tagged for signature checks with EdDSA. */
export function publicJwkOf(jwk: JWK): JWK {
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' };
}
