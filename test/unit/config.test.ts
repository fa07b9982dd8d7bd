import { describe, expect, it } from 'vitest';
import { loadConfig, loadGatewayConfig } from '../../src/config.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';

describe('loadConfig', () => {
  it('runs on the embedded database with an ephemeral dev secret when nothing is set', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config).toMatchObject({ host: '127.0.0.1', port: 4001, dbTimeoutMs: 2000, maxRepresentations: 1000, seedDemo: true, cacheMaxSubjects: 250_000 });
    expect(config.database).toMatchObject({ kind: 'embedded', dbName: 'consent' });
    expect(config.auth).toEqual({ kind: 'ephemeral' });
  });

  it('turns the projection cache off with CACHE_MAX_SUBJECTS=0', () => {
    expect(loadConfig({ CACHE_MAX_SUBJECTS: '0' }).cacheMaxSubjects).toBe(0);
    expect(loadConfig({ CACHE_MAX_SUBJECTS: '1000' }).cacheMaxSubjects).toBe(1000);
  });

  it('uses MONGODB_URI as it is, starts nothing and seeds nothing by default', () => {
    const config = loadConfig({ MONGODB_URI: 'mongodb://db.internal:27017/?replicaSet=rs0', MONGODB_DB: 'consent_eu' });
    expect(config.database).toEqual({ kind: 'external', uri: 'mongodb://db.internal:27017/?replicaSet=rs0', dbName: 'consent_eu' });
    expect(config.seedDemo).toBe(false);
  });

  it('verifies with a shared secret or a JWKS, with issuer and audience when given', () => {
    expect(loadConfig({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: 'https://id.example', AUTH_AUDIENCE: 'consent' }).auth).toEqual({
      kind: 'secret',
      secret: SECRET,
      issuer: 'https://id.example',
      audience: 'consent',
    });
    expect(loadConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json' }).auth).toMatchObject({ kind: 'jwks', jwksUrl: 'https://id.example/jwks.json' });
  });

  it('starts in production with keys configured', () => {
    const config = loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET, PORT: '8080', HOST: '0.0.0.0' });
    expect(config).toMatchObject({ env: 'production', port: 8080, host: '0.0.0.0' });
    expect(Object.isFrozen(config)).toBe(true);
  });
});

describe('loadGatewayConfig', () => {
  it('points at the local subgraphs by default and takes the same keys as the subgraph', () => {
    const config = loadGatewayConfig({ AUTH_JWT_SECRET: SECRET });
    expect(config).toMatchObject({ port: 4000, consentUrl: 'http://127.0.0.1:4001/graphql', catalogUrl: 'http://127.0.0.1:4002/' });
    expect(config.auth).toMatchObject({ kind: 'secret', secret: SECRET });
  });
});
