/** Who is calling, as proven by a verified token; `null` principal means no token was sent. */
export interface Principal {
  /** The token's `sub`: recorded as the ledger's `actor`. */
  readonly subject: string;
  readonly scopes: ReadonlySet<string>;
  /** The artists this caller may manage with `consent:write`. */
  readonly artistIds: ReadonlySet<string>;
}

/** The caller's identity for one request: a principal, nobody, or a token that failed verification. */
export type Caller =
  | { readonly kind: 'principal'; readonly principal: Principal }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** The scopes the service knows. */
export const SCOPES = Object.freeze({ read: 'consent:read', write: 'consent:write', admin: 'consent:admin', audit: 'consent:audit' });
