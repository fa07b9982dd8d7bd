/** How long a token may live and how far clocks may disagree, in seconds (AUTH_MAX_TOKEN_AGE, AUTH_CLOCK_SKEW). */
export interface TokenLifetimeLimits {
  /** Longest lifetime a token may declare: `exp - iat`, or `exp - now` when it has no `iat`. @default 86400 */
  readonly maxTokenAge: number;
  /** Tolerated difference between the issuer's clock and ours, for `exp`, `nbf` and `iat`. @default 30 */
  readonly clockSkew: number;
}

/** The limits used when none are configured: a day's lifetime and half a minute of clock skew. */
export const DEFAULT_TOKEN_LIFETIME_LIMITS: TokenLifetimeLimits = Object.freeze({ maxTokenAge: 86_400, clockSkew: 30 });

/**
 * Checks the lifetime claims the signature libraries leave optional: `exp` present, `iat` (when
 * present) not in the future, and a declared lifetime within `maxTokenAge`. Returns why the token
 * is refused, naming the claim, or null when it passes; expiry itself is the verifier's check.
 */
export function checkTokenLifetime(payload: { readonly exp?: unknown; readonly iat?: unknown }, limits: TokenLifetimeLimits, nowSeconds: number): string | null {
  const { exp, iat } = payload;
  if (exp === undefined) return 'missing required "exp" claim (tokens must expire)';
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return '"exp" claim must be a number';
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) return '"iat" claim must be a number';
  if (iat !== undefined && iat > nowSeconds + limits.clockSkew) return '"iat" claim is in the future';
  // Without `iat` the lifetime left is all we can bound; the skew keeps a token minted at the limit
  // by a clock slightly ahead of ours acceptable.
  const lifetime = iat === undefined ? exp - nowSeconds - limits.clockSkew : exp - iat;
  if (lifetime > limits.maxTokenAge) {
    return `"exp" claim is too far ${iat === undefined ? 'in the future' : 'after "iat"'}: tokens may live at most ${limits.maxTokenAge} s`;
  }
  return null;
}
