import { AuthenticationError, ForbiddenError } from '../errors.js';
import { SCOPES, type Caller, type Principal } from './Principal.js';

/**
 * Returns the principal if it holds every scope of at least one alternative (the meaning of
 * `@requiresScopes(scopes: [[…], […]])`); throws UNAUTHENTICATED without a valid token, FORBIDDEN otherwise.
 */
export function requireScopes(caller: Caller, alternatives: readonly (readonly string[])[]): Principal {
  const principal = requirePrincipal(caller);
  if (alternatives.some((all) => all.every((scope) => principal.scopes.has(scope)))) return principal;
  const wanted = alternatives.map((all) => all.join(' + ')).join(' or ');
  throw new ForbiddenError(`This field needs the scope ${wanted}; the token of "${principal.subject}" does not grant it.`);
}

/** Returns the principal, or throws AuthenticationError when there is no valid token. */
export function requirePrincipal(caller: Caller): Principal {
  if (caller.kind === 'anonymous') throw new AuthenticationError('This field needs a bearer token (Authorization: Bearer <JWT>).');
  if (caller.kind === 'invalid') throw new AuthenticationError(`Invalid bearer token: ${caller.reason}.`);
  return caller.principal;
}

/**
 * Checks that the principal may change the consent of `artistId`: `consent:admin` for any artist, or
 * `consent:write` with the artist listed in the token's `artist_ids`.
 */
export function assertCanManage(principal: Principal, artistId: string): void {
  if (principal.scopes.has(SCOPES.admin)) return;
  if (principal.scopes.has(SCOPES.write) && principal.artistIds.has(artistId)) return;
  if (!principal.scopes.has(SCOPES.write)) {
    throw new ForbiddenError(`Changing consent needs the scope consent:write or consent:admin; the token of "${principal.subject}" has neither.`);
  }
  throw new ForbiddenError(`"${principal.subject}" may not manage the consent of artist "${artistId}" (not in the token's artist_ids).`);
}

/**
 * The actor id as `caller` may see it: itself with scope consent:audit, or when the caller is that
 * actor (its own changes); null otherwise, never an error, so reads without the scope still answer.
 */
export function visibleActor(caller: Caller, actor: string): string | null {
  if (caller.kind !== 'principal') return null;
  const { principal } = caller;
  return principal.scopes.has(SCOPES.audit) || principal.subject === actor ? actor : null;
}
