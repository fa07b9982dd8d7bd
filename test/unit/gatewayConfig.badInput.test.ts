import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../gateway/config.js';
import { PRODUCTION_ENV, TEST_SECRET } from '../helpers/environments.js';


describe('loadGatewayConfig given bad configuration', () => {
  it('refuses to start without keys: the gateway has no ephemeral mode', () => {
    expect(() => loadGatewayConfig({})).toThrow(/The gateway needs AUTH_JWT_SECRET or AUTH_JWKS_URL/);
  });

  it.each([
    ['AUTH_ISSUER', /NODE_ENV=production needs AUTH_ISSUER/],
    ['AUTH_AUDIENCE', /NODE_ENV=production needs AUTH_AUDIENCE/],
  ])('refuses to start in production without %s, naming it', (name, message) => {
    const env: Record<string, string> = { ...PRODUCTION_ENV };
    delete env[name];
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });

  it('refuses a log level the gateway does not know', () => {
    expect(() => loadGatewayConfig({ AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'chatty' })).toThrow(/LOG_LEVEL must be debug, info, warn or error/);
  });
});
