import { signToken } from '../../src/auth/signToken.js';

export { signToken };

/** The shared HS256 secret the test subgraphs and gateways verify with. */
export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** A token that may read consent (`consent:read`) and nothing else. */
export function readToken(secret = TEST_SECRET, sub = 'test-reader'): Promise<string> {
  return signToken(secret, { sub, scope: 'consent:read' });
}

/** A token that may read consent and change it for the listed artists only. */
export function writeToken(secret = TEST_SECRET, artistIds: string[] = [], sub = 'test-artist-app'): Promise<string> {
  return signToken(secret, { sub, scope: 'consent:read consent:write', artist_ids: artistIds });
}

/** A support/admin token, like the admin dev token: may read consent, change it for any artist and see every actor. */
export function adminToken(secret = TEST_SECRET, sub = 'test-admin'): Promise<string> {
  return signToken(secret, { sub, scope: 'consent:read consent:admin consent:audit' });
}

/** An auditor's token: may read consent and see who made each change (`consent:audit`), and change nothing. */
export function auditToken(secret = TEST_SECRET, sub = 'test-auditor'): Promise<string> {
  return signToken(secret, { sub, scope: 'consent:read consent:audit' });
}
