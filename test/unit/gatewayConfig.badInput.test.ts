import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../gateway/config.js';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const PRODUCTION = {
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: SECRET,
  AUTH_ISSUER: 'https://id.example',
  AUTH_AUDIENCE: 'consent',
  GATEWAY_SIGNATURE_SECRET: 'a-signing-secret-of-at-least-32-characters',
};

describe('loadGatewayConfig given bad configuration', () => {
  it('refuses to start without keys: the gateway has no ephemeral mode', () => {
    expect(() => loadGatewayConfig({})).toThrow(/The gateway needs AUTH_JWT_SECRET or AUTH_JWKS_URL/);
  });

  it.each([
    ['AUTH_ISSUER', /NODE_ENV=production needs AUTH_ISSUER/],
    ['AUTH_AUDIENCE', /NODE_ENV=production needs AUTH_AUDIENCE/],
  ])('refuses to start in production without %s, naming it', (name, message) => {
    const env: Record<string, string> = { ...PRODUCTION };
    delete env[name];
    expect(() => loadGatewayConfig(env)).toThrow(message);
  });

  it('refuses a log level the gateway does not know', () => {
    expect(() => loadGatewayConfig({ AUTH_JWT_SECRET: SECRET, LOG_LEVEL: 'chatty' })).toThrow(/LOG_LEVEL must be debug, info, warn or error/);
  });
});
