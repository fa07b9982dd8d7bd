import { SignJWT } from 'jose';

/** Claims of a token this service understands. */
export interface TokenClaims {
  readonly sub: string;
  readonly scope: string;
  readonly artist_ids?: readonly string[];
}

/** Signs an HS256 token (development tokens, tests, benchmarks); production tokens come from your IdP. */
export function signToken(secret: string, claims: TokenClaims, options: { expiresIn?: string; issuer?: string; audience?: string } = {}): Promise<string> {
  let jwt = new SignJWT({ scope: claims.scope, artist_ids: claims.artist_ids ?? [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
