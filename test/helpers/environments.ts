/** A token secret long enough for HS256 (32+ characters), for configuration tests. */
export const TEST_SECRET = 'a-secret-of-at-least-thirty-two-characters';

/** A gateway signing secret (32+ characters), for configuration tests. */
export const TEST_SIGNING_SECRET = 'a-signing-secret-of-at-least-32-characters';

/** The smallest environment production starts with: keys, issuer, audience and the gateway signature secret. */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = Object.freeze({
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: TEST_SECRET,
  AUTH_ISSUER: 'https://id.example',
  AUTH_AUDIENCE: 'consent',
  GATEWAY_SIGNATURE_SECRET: TEST_SIGNING_SECRET,
});
