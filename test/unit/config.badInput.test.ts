import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { PRODUCTION_ENV, TEST_SECRET } from '../helpers/environments.js';


describe('loadConfig given bad configuration', () => {
  it('refuses to start in production without token verification keys', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production needs AUTH_JWT_SECRET or AUTH_JWKS_URL/);
  });

  it.each([
    ['AUTH_ISSUER', /NODE_ENV=production needs AUTH_ISSUER/],
    ['AUTH_AUDIENCE', /NODE_ENV=production needs AUTH_AUDIENCE/],
  ])('refuses to start in production without %s, naming it', (name, message) => {
    const env: Record<string, string> = { ...PRODUCTION_ENV };
    delete env[name];
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    expect(() => loadConfig({ ...env, [name]: '' })).toThrow(message);
  });

  it('refuses to start in production without GATEWAY_SIGNATURE_SECRET, naming REQUIRE_GATEWAY_SIGNATURE=false as the way off', () => {
    const { GATEWAY_SIGNATURE_SECRET: _secret, ...unsigned } = PRODUCTION_ENV;
    expect(() => loadConfig(unsigned)).toThrow(ConfigError);
    expect(() => loadConfig(unsigned)).toThrow(/set GATEWAY_SIGNATURE_SECRET .* or REQUIRE_GATEWAY_SIGNATURE=false/);
  });

  it('refuses a METRICS_PORT equal to PORT', () => {
    expect(() => loadConfig({ PORT: '4001', METRICS_PORT: '4001' })).toThrow(/METRICS_PORT must differ from PORT \(4001\)/);
    expect(() => loadConfig({ ...PRODUCTION_ENV, PORT: '9464' })).toThrow(/METRICS_PORT must differ from PORT \(9464\)/);
  });

  it.each([
    ['a cost budget of zero', { MAX_COST: '0' }, /MAX_COST must be an integer from 100 to 10000000, but got: "0"/],
    ['a response limit in megabytes', { MAX_RESPONSE_BYTES: '16MB' }, /MAX_RESPONSE_BYTES must be an integer/],
    ['a token lifetime of zero', { AUTH_MAX_TOKEN_AGE: '0' }, /AUTH_MAX_TOKEN_AGE must be an integer from 1 to 31536000, but got: "0"/],
    ['a token lifetime in words', { AUTH_MAX_TOKEN_AGE: '1d' }, /AUTH_MAX_TOKEN_AGE must be an integer/],
    ['a clock skew over five minutes', { AUTH_CLOCK_SKEW: '3600' }, /AUTH_CLOCK_SKEW must be an integer from 0 to 300, but got: "3600"/],
    ['a metrics port out of range', { METRICS_PORT: '65536' }, /METRICS_PORT must be an integer from 0 to 65535, but got: "65536"/],
    ['both a secret and a JWKS URL', { AUTH_JWT_SECRET: TEST_SECRET, AUTH_JWKS_URL: 'https://id.example/jwks.json' }, /not both/],
    ['a secret shorter than 32 characters', { AUTH_JWT_SECRET: 'short' }, /AUTH_JWT_SECRET must be at least 32 characters/],
    ['a JWKS URL that is not http(s)', { AUTH_JWKS_URL: 'file:///etc/keys' }, /AUTH_JWKS_URL must be an http\(s\) URL/],
    ['a port out of range', { PORT: '70000' }, /PORT must be an integer from 0 to 65535, but got: "70000"/],
    ['a non-numeric timeout', { DB_TIMEOUT_MS: 'soon' }, /DB_TIMEOUT_MS must be an integer/],
    ['a negative cache size', { CACHE_MAX_SUBJECTS: '-1' }, /CACHE_MAX_SUBJECTS must be an integer from 0 to 10000000, but got: "-1"/],
    ['a database name with a dot', { MONGODB_DB: 'consent.prod' }, /MONGODB_DB must be a plain database name/],
    ['a boolean that is neither true nor false', { LANDING_PAGE: 'yes' }, /LANDING_PAGE must be true or false, but got: "yes"/],
  ])('refuses %s, naming the variable', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
