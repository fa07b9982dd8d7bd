import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ConsentDomainError, IdempotencyConflictError, InvalidInputError } from './consent/errors.js';

/** The request carries no usable credentials (no token, or a token that fails verification). */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}

/** The caller is known but lacks the scope or the artist it needs. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

/** The consent store could not answer in time; callers must treat the field as "not allowed". */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(options?: { cause?: unknown }) {
    super('The consent store did not answer in time. Treat this consent as not allowed and retry later.', options);
  }
}

/** A request is larger than the service accepts (for example too many `_entities` representations). */
export class RequestTooLargeError extends Error {
  override name = 'RequestTooLargeError';
}

/**
 * One change of a `changeConsents` call was refused, so the call wrote nothing: `index` is the
 * change's position and `cause` why (its code is the cause's: BAD_USER_INPUT, FORBIDDEN…); the
 * message is the cause's, after `path` (`changes[3].set`).
 */
export class ChangeRefusedError extends Error {
  override name = 'ChangeRefusedError';
  constructor(
    readonly index: number,
    path: string,
    override readonly cause: Error,
  ) {
    super(`${path}: ${cause.message}`, { cause });
  }
}

/** Why a change-feed subscription ended early; `cursor` is where the subscriber resumes (`after`) without a gap or a repeat. */
export class FeedStreamEndedError extends Error {
  override name = 'FeedStreamEndedError';
  constructor(
    readonly code: 'SUBSCRIBER_TOO_SLOW' | 'SERVICE_UNAVAILABLE',
    readonly cursor: string,
    message: string,
  ) {
    super(message);
  }
}

/** Maps a thrown error to its `extensions.code`, or null when it is unexpected (and must be masked). */
export function codeOf(error: unknown): string | null {
  if (error instanceof ChangeRefusedError) return codeOf(error.cause);
  if (error instanceof AuthenticationError) return 'UNAUTHENTICATED';
  if (error instanceof ForbiddenError) return 'FORBIDDEN';
  if (error instanceof InvalidInputError || error instanceof RequestTooLargeError) return 'BAD_USER_INPUT';
  if (error instanceof IdempotencyConflictError) return 'IDEMPOTENCY_KEY_REUSED';
  if (error instanceof StoreUnavailableError) return 'SERVICE_UNAVAILABLE';
  if (error instanceof FeedStreamEndedError) return error.code;
  if (error instanceof ConsentDomainError) return 'BAD_USER_INPUT';
  return null;
}

// Codes that graphql-js and Apollo Server attach themselves to malformed requests: safe to show.
const REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'COST_ESTIMATED_TOO_EXPENSIVE',
  'OPERATION_NOT_SUPPORTED',
]);

// graphql-js's suggestions: ` Did you mean "a" or "b"?`, ` Did you mean the enum value "A"?`,
// ` Did you mean to use an inline fragment on "T"?`. Each names a part of the schema.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

// graphql-js refuses a document over `maxTokens` while parsing, as a "Syntax Error" (with a typo:
// "more that"), and graphql-armor words its depth, alias and directive limits the same way. They
// are limits, not syntax mistakes, so the client is told which limit it hit and what to do.
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] (\d+) tokens\.?/;
const ARMOR_LIMIT = /^Syntax Error: (.+ limit of \d+ exceeded.*)$/s;

// GraphQL refuses a bad item of a list variable before any resolver runs and names the item only in
// its message (`Variable "$changes" got invalid value … at "changes[3].set.expiresAt"; …`).
const LIST_VARIABLE_ITEM = /^Variable "\$\w+" got invalid value .*? at "\w+\[(\d+)\]/s;

// The position of the list item an error is about, as `extensions.index`: a refused change of
// `changeConsents`, or an item of a list variable that GraphQL itself refused.
function indexOf(original: unknown, message: string): { index?: number } {
  if (original instanceof ChangeRefusedError) return { index: original.index };
  const item = LIST_VARIABLE_ITEM.exec(message);
  return item === null ? {} : { index: Number(item[1]) };
}

function clientMessage(message: string, hideSuggestions: boolean | undefined): string {
  const tokens = TOKEN_LIMIT.exec(message);
  if (tokens !== null) return `The operation text has more than ${tokens[1]} tokens; send long lists (representations, requests) in variables.`;
  const limit = ARMOR_LIMIT.exec(message);
  const text = limit !== null ? `Request limit: ${limit[1]}` : message;
  return hideSuggestions ? text.replace(SUGGESTION, '') : text;
}

/**
 * The one place errors become client-visible GraphQL errors: known errors keep their message and
 * get their code; anything else is logged by `onUnexpected` and masked as "Unexpected error." so no
 * driver message, collection name or stack reaches a client. With `hideSuggestions` (introspection
 * off) every "Did you mean …?" is cut from messages, since it would reveal the schema piece by piece.
 */
export function createFormatError(onUnexpected: (error: unknown) => void, options: { hideSuggestions?: boolean } = {}) {
  const messageOf = (formatted: GraphQLFormattedError) => clientMessage(formatted.message, options.hideSuggestions);
  return function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const original = unwrapResolverError(error);
    if (original instanceof FeedStreamEndedError) {
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: { code: original.code, cursor: original.cursor } };
    }
    const code = codeOf(original);
    if (code !== null) {
      return { message: messageOf(formatted), locations: formatted.locations, path: formatted.path, extensions: { code, ...indexOf(original, formatted.message) } };
    }
    const existing = formatted.extensions?.code;
    if (typeof existing === 'string' && REQUEST_CODES.has(existing) && !(original instanceof Error && !(original instanceof GraphQLError))) {
      return { message: messageOf(formatted), locations: formatted.locations, path: formatted.path, extensions: { code: existing, ...indexOf(original, formatted.message) } };
    }
    onUnexpected(original);
    return { message: 'Unexpected error.', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
