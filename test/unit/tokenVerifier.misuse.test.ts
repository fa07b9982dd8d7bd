import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { createTokenVerifier, type VerifierOptions } from '../../src/auth/createTokenVerifier.js';
import type { Caller } from '../../src/auth/Principal.js';
import { TEST_SECRET } from '../helpers/tokens.js';

const DAY = 86_400;
const now = () => Math.floor(Date.now() / 1000);

/** Signs exactly `claims` (nothing added) with TEST_SECRET, so each test states every time claim it sends. */
function tokenWith(claims: JWTPayload): Promise<string> {
  return new SignJWT({ sub: 'test-reader', scope: 'consent:read', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(TEST_SECRET));
}

async function verify(claims: JWTPayload, options: Partial<VerifierOptions> = {}): Promise<Caller> {
  const verifier = createTokenVerifier({ kind: 'secret', secret: TEST_SECRET, ...options } as VerifierOptions);
  return verifier(`Bearer ${await tokenWith(claims)}`);
}

function reasonOf(caller: Caller): string {
  expect(caller.kind).toBe('invalid');
  return caller.kind === 'invalid' ? caller.reason : '';
}

describe('createTokenVerifier given tokens it must refuse', () => {
  it('accepts a token issued now that lives an hour (the control case)', async () => {
    expect((await verify({ iat: now(), exp: now() + 3600 })).kind).toBe('principal');
  });

  it('refuses a token with no "exp" claim', async () => {
    expect(reasonOf(await verify({ iat: now() }))).toMatch(/"exp" claim/);
  });

  it('refuses a token whose "exp" is 100 years after its "iat"', async () => {
    expect(reasonOf(await verify({ iat: now(), exp: now() + 100 * 365 * DAY }))).toMatch(/"exp" claim is too far after "iat": tokens may live at most 86400 s/);
  });

  it('refuses a token without "iat" whose "exp" is further away than the maximum age', async () => {
    expect(reasonOf(await verify({ exp: now() + 100 * 365 * DAY }))).toMatch(/"exp" claim is too far in the future/);
    expect((await verify({ exp: now() + DAY - 60 })).kind).toBe('principal');
  });

  it('applies AUTH_MAX_TOKEN_AGE as configured: a two-hour token passes a day and fails an hour', async () => {
    const claims = { iat: now(), exp: now() + 7200 };
    expect((await verify(claims)).kind).toBe('principal');
    expect(reasonOf(await verify(claims, { maxTokenAge: 3600 }))).toMatch(/at most 3600 s/);
  });

  it('refuses a token whose "iat" is in the future beyond the clock skew', async () => {
    expect(reasonOf(await verify({ iat: now() + 3600, exp: now() + 7200 }))).toMatch(/"iat" claim/);
  });

  it('refuses an expired token once the clock skew has passed', async () => {
    expect(reasonOf(await verify({ iat: now() - 600, exp: now() - 60 }))).toMatch(/"exp" claim/);
  });

  it('tolerates clocks that disagree within the skew: "iat" a little ahead, "exp" just passed', async () => {
    expect((await verify({ iat: now() + 20, exp: now() + 3600 })).kind).toBe('principal');
    expect((await verify({ iat: now() - 600, exp: now() - 20 })).kind).toBe('principal');
    expect(reasonOf(await verify({ iat: now() + 20, exp: now() + 3600 }, { clockSkew: 0 }))).toMatch(/"iat" claim is in the future/);
  });

  it('refuses a token from another issuer', async () => {
    const caller = await verify({ iss: 'https://evil.example', iat: now(), exp: now() + 3600 }, { issuer: 'https://id.example' });
    expect(reasonOf(caller)).toMatch(/"iss" claim/);
  });

  it('refuses a token for another audience', async () => {
    const caller = await verify({ aud: 'billing', iat: now(), exp: now() + 3600 }, { audience: 'consent' });
    expect(reasonOf(caller)).toMatch(/"aud" claim/);
  });

  it('refuses a token without "iss" or "aud" when they are configured', async () => {
    const options = { issuer: 'https://id.example', audience: 'consent' };
    expect(reasonOf(await verify({ aud: 'consent', iat: now(), exp: now() + 3600 }, options))).toMatch(/"iss" claim/);
    expect(reasonOf(await verify({ iss: 'https://id.example', iat: now(), exp: now() + 3600 }, options))).toMatch(/"aud" claim/);
    expect((await verify({ iss: 'https://id.example', aud: 'consent', iat: now(), exp: now() + 3600 }, options)).kind).toBe('principal');
  });

  it('refuses "exp" and "iat" claims that are not numbers', async () => {
    expect(reasonOf(await verify({ iat: now(), exp: 'tomorrow' as unknown as number }))).toMatch(/"exp" claim/);
    expect(reasonOf(await verify({ iat: 'now' as unknown as number, exp: now() + 3600 }))).toMatch(/"iat" claim/);
  });

  it('a token that verified is refused again once it expires, and one that is not valid yet is never taken as verified', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const verifier = createTokenVerifier({ kind: 'secret', secret: TEST_SECRET });
      const token = `Bearer ${await tokenWith({ iat: now(), exp: now() + 45 })}`;
      expect((await verifier(token)).kind).toBe('principal');
      expect((await verifier(token)).kind).toBe('principal');
      // Past "exp" and the 30 s of skew: refused, though it verified a moment ago.
      vi.setSystemTime(Date.now() + 80_000);
      expect(reasonOf(await verifier(token))).toMatch(/"exp" claim/);

      const early = `Bearer ${await tokenWith({ iat: now(), nbf: now() + 600, exp: now() + 3600 })}`;
      expect(reasonOf(await verifier(early))).toMatch(/"nbf" claim/);
      vi.setSystemTime(Date.now() + 601_000);
      expect((await verifier(early)).kind).toBe('principal');
    } finally {
      vi.useRealTimers();
    }
  });
});
