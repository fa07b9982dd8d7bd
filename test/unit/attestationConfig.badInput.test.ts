import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { PRODUCTION_ENV, TEST_ATTESTATION_JWK } from '../helpers/environments.js';

const privateJwk = JSON.parse(TEST_ATTESTATION_JWK) as Record<string, string>;
const { d: _d, ...publicJwk } = privateJwk;

describe('attestation keys given bad configuration', () => {
  it('refuses to start in production without ATTESTATION_PRIVATE_JWK, naming it', () => {
    const { ATTESTATION_PRIVATE_JWK: _key, ...env } = PRODUCTION_ENV;
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/NODE_ENV=production needs ATTESTATION_PRIVATE_JWK/);
  });

  it.each([
    ['text that is not JSON', 'not json {'],
    ['a public key', JSON.stringify(publicJwk)],
    ['a key without kid', JSON.stringify({ ...privateJwk, kid: undefined })],
    ['another curve', JSON.stringify({ ...privateJwk, crv: 'X25519' })],
  ])('refuses %s as ATTESTATION_PRIVATE_JWK without quoting it', (_what, value) => {
    const attempt = () => loadConfig({ ATTESTATION_PRIVATE_JWK: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^ATTESTATION_PRIVATE_JWK must be/);
    expect(() => attempt()).not.toThrow(new RegExp(privateJwk.d!));
  });

  it.each([
    ['an object instead of an array', JSON.stringify(publicJwk), /ATTESTATION_RETIRED_JWKS must be a JSON array/],
    ['a private key', JSON.stringify([privateJwk]), /ATTESTATION_RETIRED_JWKS\[0\] must be an Ed25519 public JWK .*a private key \(not shown\)/],
    ['a key without kid', JSON.stringify([{ ...publicJwk, kid: '' }]), /ATTESTATION_RETIRED_JWKS\[0\] must be/],
    ['text that is not JSON', '[{', /ATTESTATION_RETIRED_JWKS must be JSON/],
  ])('refuses %s in ATTESTATION_RETIRED_JWKS, naming it', (_what, value, message) => {
    expect(() => loadConfig({ ATTESTATION_RETIRED_JWKS: value })).toThrow(message);
  });
});

describe('attestation keys given good configuration', () => {
  it('keeps the private key and the retired public keys, and is ephemeral in development when unset', () => {
    const config = loadConfig({ ATTESTATION_PRIVATE_JWK: TEST_ATTESTATION_JWK, ATTESTATION_RETIRED_JWKS: JSON.stringify([{ ...publicJwk, kid: 'old' }]) });
    expect(config.attestation.privateJwk).toMatchObject({ kid: 'test-attestation-1', d: privateJwk.d });
    expect(config.attestation.retiredJwks).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: publicJwk.x, kid: 'old' }]);
    expect(loadConfig({}).attestation).toEqual({ privateJwk: null, retiredJwks: [] });
  });
});
