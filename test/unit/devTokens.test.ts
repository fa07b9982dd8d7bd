import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/auth/createTokenVerifier.js';
import { createDevTokens } from '../../src/auth/devTokens.js';
import { TEST_SECRET } from '../helpers/tokens.js';

describe('createDevTokens', () => {
  it('signs tokens the default verifier accepts, valid for 12 hours', async () => {
    const tokens = await createDevTokens(TEST_SECRET, 'artist-aurora');
    const verify = createTokenVerifier({ kind: 'secret', secret: TEST_SECRET });
    for (const token of [tokens.read, tokens.write, tokens.admin]) expect((await verify(`Bearer ${token}`)).kind).toBe('principal');
    expect(tokens.expiresAt.getTime() - Date.now()).toBeGreaterThan(12 * 3600_000 - 5000);
  });

  it('shortens the tokens to a shorter AUTH_MAX_TOKEN_AGE, so the verifier using it still accepts them', async () => {
    const tokens = await createDevTokens(TEST_SECRET, 'artist-aurora', 600);
    const verify = createTokenVerifier({ kind: 'secret', secret: TEST_SECRET, maxTokenAge: 600 });
    expect((await verify(`Bearer ${tokens.write}`)).kind).toBe('principal');
    expect(tokens.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(600_000);
  });

  it('signs the write token for the artist it is given, and no other', async () => {
    const tokens = await createDevTokens(TEST_SECRET, 'artist-basalt');
    expect(tokens.artistId).toBe('artist-basalt');
    expect(decodeJwt(tokens.write)).toMatchObject({ scope: 'consent:read consent:write', artist_ids: ['artist-basalt'] });
  });
});
