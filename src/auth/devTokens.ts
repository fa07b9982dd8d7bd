import { signToken } from './signToken.js';

/** Ready-to-paste development tokens: a reading service, a demo artist's app, and support staff. */
export interface DevTokens {
  /** `consent:read` (a recommendation or ads service). */
  readonly read: string;
  /** `consent:read consent:write` for {@link DevTokens.artistId} (the artist's app). */
  readonly write: string;
  /** `consent:read consent:admin consent:audit` (support: may also see who made each change). */
  readonly admin: string;
  readonly artistId: string;
  /** When the tokens expire. */
  readonly expiresAt: Date;
}

// Long enough for a working day; shortened when AUTH_MAX_TOKEN_AGE would refuse it.
const DEV_TOKEN_LIFETIME = 12 * 3600;

/** Signs the development tokens with `secret` (HS256, valid 12 h or `maxTokenAge` seconds if shorter), the write token for `artistId`; for local use only. */
export async function createDevTokens(secret: string, artistId: string, maxTokenAge = DEV_TOKEN_LIFETIME): Promise<DevTokens> {
  const expiresIn = `${Math.min(DEV_TOKEN_LIFETIME, maxTokenAge)}s`;
  return {
    read: await signToken(secret, { sub: 'dev-service', scope: 'consent:read' }, { expiresIn }),
    write: await signToken(secret, { sub: 'dev-artist', scope: 'consent:read consent:write', artist_ids: [artistId] }, { expiresIn }),
    admin: await signToken(secret, { sub: 'dev-admin', scope: 'consent:read consent:admin consent:audit' }, { expiresIn }),
    expiresAt: new Date((Math.floor(Date.now() / 1000) + Math.min(DEV_TOKEN_LIFETIME, maxTokenAge)) * 1000),
    artistId,
  };
}

/** The lines that print `tokens` for a developer to paste. */
export function devTokenLines(tokens: DevTokens): string[] {
  return [
    '',
    `Development tokens (ephemeral secret, valid until ${tokens.expiresAt.toISOString()}; send as "Authorization: Bearer <token>"):`,
    `  read  (a service):          ${tokens.read}`,
    `  write (artist ${tokens.artistId}): ${tokens.write}`,
    `  admin (support):            ${tokens.admin}`,
    '',
  ];
}
