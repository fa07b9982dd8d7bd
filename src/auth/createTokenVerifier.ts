import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { checkTokenLifetime, DEFAULT_TOKEN_LIFETIME_LIMITS } from './checkTokenLifetime.js';
import type { Caller, Principal } from './Principal.js';

/** How tokens must be timed: lifetime and clock skew in seconds (see {@link DEFAULT_TOKEN_LIFETIME_LIMITS}). */
interface LifetimeOptions {
  /** Longest lifetime a token may declare (`exp - iat`, or `exp - now` without `iat`). @default 86400 */
  readonly maxTokenAge?: number;
  /** Tolerated clock difference with the issuer. @default 30 */
  readonly clockSkew?: number;
}

/** Key material and claims checks for verifying bearer tokens; `issuer` and `audience` are required claims when set. */
export type VerifierOptions =
  | ({ readonly kind: 'secret'; readonly secret: string; readonly issuer?: string; readonly audience?: string } & LifetimeOptions)
  | ({ readonly kind: 'jwks'; readonly jwksUrl: string; readonly issuer?: string; readonly audience?: string } & LifetimeOptions);

/** Turns an `Authorization` header into the request's caller. */
export type TokenVerifier = (authorization: string | undefined) => Promise<Caller>;

/**
 * Creates a verifier for `Authorization: Bearer <JWT>` (HS256 with a shared secret, or any key of a
 * JWKS). A missing header gives an anonymous caller; a malformed, wrongly signed, expired,
 * never-expiring, too long-lived or future-issued token, or one with the wrong `iss`/`aud`, gives an
 * `invalid` caller whose reason names the claim, so protected fields fail with UNAUTHENTICATED while
 * `_service` still works.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  // The HMAC key imported into WebCrypto once: jose 6 verifies through WebCrypto and would import
  // a raw secret or a KeyObject again on every request.
  const key: Promise<CryptoKey> | JWTVerifyGetKey =
    options.kind === 'secret'
      ? crypto.subtle.importKey('raw', Buffer.from(options.secret, 'utf8'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
      : createRemoteJWKSet(new URL(options.jwksUrl));
  const limits = {
    maxTokenAge: options.maxTokenAge ?? DEFAULT_TOKEN_LIFETIME_LIMITS.maxTokenAge,
    clockSkew: options.clockSkew ?? DEFAULT_TOKEN_LIFETIME_LIMITS.clockSkew,
  };
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: options.kind === 'secret' ? ['HS256'] : undefined,
    clockTolerance: limits.clockSkew,
    requiredClaims: ['exp'],
  };
  // Tokens that verified, with the caller they gave, until the earliest of: VERIFIED_FOR_MS from
  // now, the token's `exp` (with the skew jose allowed) and a start of use (`nbf`) not yet reached
  // (never cached). Verifying a JWT is an HMAC or signature check through WebCrypto's thread pool,
  // a visible share of a replica's CPU under load (BENCHMARKS.md), while callers send the same
  // token for its whole life. A token's string fixes every claim and the signature, so the same
  // string verifies the same until one of those times; a JWKS key withdrawn meanwhile is noticed
  // within VERIFIED_FOR_MS.
  const verified = new Map<string, { caller: Caller; until: number }>();
  const remember = (token: string, caller: Caller, payload: JWTPayload, nowMs: number): void => {
    if (typeof payload.nbf === 'number' && payload.nbf * 1000 > nowMs) return;
    const until = Math.min(nowMs + VERIFIED_FOR_MS, ((payload.exp as number) + limits.clockSkew) * 1000);
    if (until <= nowMs) return;
    // Oldest first out (a Map keeps insertion order).
    if (verified.size >= MAX_VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
    verified.set(token, { caller, until });
  };
  return async (authorization) => {
    if (authorization === undefined || authorization === '') return { kind: 'anonymous' };
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization.trim());
    if (match === null) return { kind: 'invalid', reason: 'Authorization header must be "Bearer <JWT>"' };
    const token = match[1]!;
    const nowMs = Date.now();
    const known = verified.get(token);
    if (known !== undefined) {
      if (nowMs < known.until) return known.caller;
      verified.delete(token);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, await key, verifyOptions));
    } catch (error) {
      return { kind: 'invalid', reason: `token rejected: ${(error as Error).message}` };
    }
    const refused = checkTokenLifetime(payload, limits, Math.floor(nowMs / 1000));
    if (refused !== null) return { kind: 'invalid', reason: `token rejected: ${refused}` };
    const caller = principalFrom(payload);
    if (caller.kind === 'principal') remember(token, caller, payload, nowMs);
    return caller;
  };
}

/** How long a verified token is taken as verified without checking it again (ms). */
const VERIFIED_FOR_MS = 60_000;

/** Most verified tokens kept (each a few hundred bytes). */
const MAX_VERIFIED_TOKENS = 10_000;

function principalFrom(payload: JWTPayload): Caller {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 200) {
    return { kind: 'invalid', reason: 'token has no usable "sub" claim' };
  }
  const scope = payload.scope;
  if (scope !== undefined && typeof scope !== 'string') return { kind: 'invalid', reason: '"scope" claim must be a space-separated string' };
  const artistIds = payload.artist_ids ?? [];
  if (!Array.isArray(artistIds) || !artistIds.every((id) => typeof id === 'string')) {
    return { kind: 'invalid', reason: '"artist_ids" claim must be an array of strings' };
  }
  const principal: Principal = {
    subject: payload.sub,
    scopes: new Set((scope ?? '').split(' ').filter(Boolean)),
    artistIds: new Set(artistIds as string[]),
  };
  return { kind: 'principal', principal };
}
