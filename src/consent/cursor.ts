import { InvalidInputError } from './errors.js';
import { ID_PATTERN } from './validate.js';

/** What a cursor points into: the change feed (global order), one subject's history, or the artist listing. */
export type CursorKind = 'feed' | 'history' | 'artists';

const PREFIX: Readonly<Record<CursorKind, string>> = Object.freeze({ feed: 'g', history: 'h', artists: 'a' });
const BASE64URL = /^[A-Za-z0-9_-]{1,200}$/;
const POSITIVE_INT = /^[1-9][0-9]{0,15}$/;

/** An opaque cursor: base64url of `<kind letter>:<position>`; clients must not build or parse it. */
export function encodeCursor(kind: 'feed' | 'history', position: number): string;
export function encodeCursor(kind: 'artists', position: string): string;
export function encodeCursor(kind: CursorKind, position: number | string): string {
  return Buffer.from(`${PREFIX[kind]}:${position}`, 'utf8').toString('base64url');
}

/**
 * The ledger position (gseq for the feed, seq for a history) a cursor of that kind points at.
 * Throws InvalidInputError for anything this service did not issue, before any database read.
 */
export function decodeNumericCursor(cursor: unknown, kind: 'feed' | 'history', field = 'after'): number {
  const value = decode(cursor, kind, field);
  if (!POSITIVE_INT.test(value) || !Number.isSafeInteger(Number(value))) throw invalid(cursor, kind, field);
  return Number(value);
}

/** The artist id an artist-listing cursor points at; throws InvalidInputError for a foreign or malformed cursor. */
export function decodeArtistCursor(cursor: unknown, field = 'after'): string {
  const value = decode(cursor, 'artists', field);
  if (!ID_PATTERN.test(value)) throw invalid(cursor, 'artists', field);
  return value;
}

function decode(cursor: unknown, kind: CursorKind, field: string): string {
  if (typeof cursor !== 'string' || !BASE64URL.test(cursor)) throw invalid(cursor, kind, field);
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Only the exact encoding this service produces is accepted: no padding variants, no stray bits.
  if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) throw invalid(cursor, kind, field);
  const prefix = `${PREFIX[kind]}:`;
  if (!text.startsWith(prefix)) throw invalid(cursor, kind, field);
  return text.slice(prefix.length);
}

function invalid(cursor: unknown, kind: CursorKind, field: string): InvalidInputError {
  const shown = typeof cursor === 'string' ? JSON.stringify(cursor.length > 60 ? `${cursor.slice(0, 57)}...` : cursor) : typeof cursor;
  return new InvalidInputError(
    `${field} must be an endCursor or cursor returned by this field (${kind} cursor), but got: ${shown}`,
    field,
  );
}

/** Validates a page size: an integer from 1 to `max`, else InvalidInputError naming the cap. */
export function parseFirst(value: unknown, max: number, field = 'first'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidInputError(`${field} must be an integer from 1 to ${max}, but got: ${JSON.stringify(value)}; page with the cursor for more.`, field);
  }
  return value;
}
