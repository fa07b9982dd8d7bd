import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../gateway/config.js';
import { loadConfig } from '../../src/config.js';
import { PRODUCTION_ENV, TEST_SECRET, TEST_SIGNING_SECRET } from '../helpers/environments.js';


describe('loadConfig', () => {
  it('leaves the database URI unset (for the caller to refuse or provide) with an ephemeral dev secret when nothing is set', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config).toMatchObject({ host: '127.0.0.1', port: 4001, dbTimeoutMs: 2000, maxRepresentations: 1000, cacheMaxSubjects: 250_000 });
    expect(config.database).toEqual({ uri: null, dbName: 'consent' });
    expect(config.auth).toEqual({ kind: 'ephemeral', maxTokenAge: 86_400, clockSkew: 30 });
    expect(config.requireGatewaySignature).toBe(false);
    expect(config.metricsPort).toBeNull();
  });

  it('reads the request budgets MAX_COST and MAX_RESPONSE_BYTES, the same cost for gateway and subgraph', () => {
    expect(loadConfig({})).toMatchObject({ maxCost: 50_000, maxResponseBytes: 16 * 1024 * 1024 });
    expect(loadConfig({ MAX_COST: '80000', MAX_RESPONSE_BYTES: '1048576' })).toMatchObject({ maxCost: 80_000, maxResponseBytes: 1_048_576 });
    expect(loadGatewayConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), MAX_COST: '80000' }).maxCost).toBe(80_000);
  });

  it('turns the projection cache off with CACHE_MAX_SUBJECTS=0', () => {
    expect(loadConfig({ CACHE_MAX_SUBJECTS: '0' }).cacheMaxSubjects).toBe(0);
    expect(loadConfig({ CACHE_MAX_SUBJECTS: '1000' }).cacheMaxSubjects).toBe(1000);
  });

  it('sets the group commit gathering window with WRITE_GATHER_MS (0 never waits), within 0–1000 ms', () => {
    expect(loadConfig({}).writeGatherMs).toBe(100);
    expect(loadConfig({ WRITE_GATHER_MS: '0' }).writeGatherMs).toBe(0);
    expect(loadConfig({ WRITE_GATHER_MS: '250' }).writeGatherMs).toBe(250);
    expect(() => loadConfig({ WRITE_GATHER_MS: '1001' })).toThrow(/WRITE_GATHER_MS/);
    expect(() => loadConfig({ WRITE_GATHER_MS: '-1' })).toThrow(/WRITE_GATHER_MS/);
    expect(() => loadConfig({ WRITE_GATHER_MS: 'soon' })).toThrow(/WRITE_GATHER_MS/);
  });

  it('uses MONGODB_URI and MONGODB_DB as they are', () => {
    const config = loadConfig({ MONGODB_URI: 'mongodb://db.internal:27017/?replicaSet=rs0', MONGODB_DB: 'consent_eu' });
    expect(config.database).toEqual({ uri: 'mongodb://db.internal:27017/?replicaSet=rs0', dbName: 'consent_eu' });
  });

  it('verifies with a shared secret or a JWKS, with issuer and audience when given', () => {
    expect(loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, AUTH_ISSUER: 'https://id.example', AUTH_AUDIENCE: 'consent' }).auth).toEqual({
      kind: 'secret',
      secret: TEST_SECRET,
      issuer: 'https://id.example',
      audience: 'consent',
      maxTokenAge: 86_400,
      clockSkew: 30,
    });
    expect(loadConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json' }).auth).toMatchObject({ kind: 'jwks', jwksUrl: 'https://id.example/jwks.json' });
  });

  it('starts in production with keys, issuer, audience and the gateway signature secret configured', () => {
    const config = loadConfig({ ...PRODUCTION_ENV, PORT: '8080', HOST: '0.0.0.0' });
    expect(config).toMatchObject({ env: 'production', port: 8080, host: '0.0.0.0' });
    expect(config.auth).toMatchObject({ issuer: 'https://id.example', audience: 'consent' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the token lifetime limit and clock skew from AUTH_MAX_TOKEN_AGE and AUTH_CLOCK_SKEW', () => {
    expect(loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, AUTH_MAX_TOKEN_AGE: '3600', AUTH_CLOCK_SKEW: '5' }).auth).toMatchObject({ maxTokenAge: 3600, clockSkew: 5 });
    expect(loadConfig({ AUTH_MAX_TOKEN_AGE: '600' }).auth).toMatchObject({ kind: 'ephemeral', maxTokenAge: 600 });
  });

  it('requires gateway signatures by default in production, and REQUIRE_GATEWAY_SIGNATURE=false turns that off', () => {
    expect(loadConfig(PRODUCTION_ENV).requireGatewaySignature).toBe(true);
    const { GATEWAY_SIGNATURE_SECRET: _secret, ...unsigned } = PRODUCTION_ENV;
    expect(loadConfig({ ...unsigned, REQUIRE_GATEWAY_SIGNATURE: 'false' }).requireGatewaySignature).toBe(false);
    expect(loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, GATEWAY_SIGNATURE_SECRET: TEST_SIGNING_SECRET }).requireGatewaySignature).toBe(false);
  });

  it('serves /metrics on its own port 9464 in production, on the service port in development unless METRICS_PORT is set', () => {
    expect(loadConfig(PRODUCTION_ENV).metricsPort).toBe(9464);
    expect(loadConfig({ ...PRODUCTION_ENV, METRICS_PORT: '9100' }).metricsPort).toBe(9100);
    expect(loadConfig({}).metricsPort).toBeNull();
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
  });
});
