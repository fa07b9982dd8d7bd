import { InvalidInputError } from './errors.js';
import { isPurpose, type Purpose } from './purposes.js';
import type { Choice, Subject } from './statement.js';

/** Ids are short printable tokens; anything else (objects, operators, long strings) is refused. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

const TEXT_MAX = 200;

/** A validated request to record a statement. */
export interface SetChange {
  readonly kind: 'SET';
  readonly subject: Subject;
  readonly purpose: Purpose;
  readonly choice: Choice;
  readonly termsVersion: string;
  readonly expiresAt: Date | null;
  readonly source: string | null;
  readonly idempotencyKey: string | null;
}

/** A validated request to remove a statement. */
export interface ClearChange {
  readonly kind: 'CLEAR';
  readonly subject: Subject;
  readonly purpose: Purpose;
  readonly idempotencyKey: string | null;
}

/** A validated change to one subject's consent. */
export type Change = SetChange | ClearChange;

/** Returns `value` if it is a well-formed id, else throws InvalidInputError quoting it. */
export function parseId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new InvalidInputError(
      `${field} must be a string of 1 to 128 letters, digits, '.', '_', ':' or '-' starting with a letter or digit, but got: ${quote(value)}`,
      field,
    );
  }
  return value;
}

/** Validates a subject ({ artistId, trackId? }). */
export function parseSubject(value: unknown, field = 'subject'): Subject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${field} must be an object with artistId and optional trackId, but got: ${quote(value)}`, field);
  }
  const { artistId, trackId } = value as Record<string, unknown>;
  return {
    artistId: parseId(artistId, `${field}.artistId`),
    trackId: trackId === undefined || trackId === null ? null : parseId(trackId, `${field}.trackId`),
  };
}

/** Validates a purpose name. */
export function parsePurpose(value: unknown, field = 'purpose'): Purpose {
  if (!isPurpose(value)) throw new InvalidInputError(`${field} must be a ConsentPurpose, but got: ${quote(value)}`, field);
  return value;
}

/** Validates the input of setConsent at time `now` (an expiry must lie in the future). */
export function parseSetChange(input: Record<string, unknown>, now: Date): SetChange {
  const choice = input.choice;
  if (choice !== 'ALLOW' && choice !== 'DENY') throw new InvalidInputError(`choice must be ALLOW or DENY, but got: ${quote(choice)}`, 'choice');
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && !(expiresAt instanceof Date && !Number.isNaN(expiresAt.getTime()))) {
    throw new InvalidInputError(`expiresAt must be a DateTime, but got: ${quote(expiresAt)}`, 'expiresAt');
  }
  if (expiresAt !== null && expiresAt.getTime() <= now.getTime()) {
    throw new InvalidInputError(`expiresAt must be in the future, but got: ${expiresAt.toISOString()} (now is ${now.toISOString()})`, 'expiresAt');
  }
  return {
    kind: 'SET',
    subject: parseSubject(input.subject),
    purpose: parsePurpose(input.purpose),
    choice,
    termsVersion: parseText(input.termsVersion, 'termsVersion', true) as string,
    expiresAt,
    source: parseText(input.source, 'source', false),
    idempotencyKey: parseText(input.idempotencyKey, 'idempotencyKey', false),
  };
}

/** Validates the input of clearConsent. */
export function parseClearChange(input: Record<string, unknown>): ClearChange {
  return {
    kind: 'CLEAR',
    subject: parseSubject(input.subject),
    purpose: parsePurpose(input.purpose),
    idempotencyKey: parseText(input.idempotencyKey, 'idempotencyKey', false),
  };
}

function parseText(value: unknown, field: string, required: boolean): string | null {
  if (value === undefined || value === null) {
    if (required) throw new InvalidInputError(`${field} is required`, field);
    return null;
  }
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > TEXT_MAX || /[\u0000-\u001f]/.test(value)) {
    throw new InvalidInputError(`${field} must be a non-blank string of at most ${TEXT_MAX} characters without control characters, but got: ${quote(value)}`, field);
  }
  return value;
}

// Quotes a bad value for an error message, bounded so a huge input can't bloat the response.
function quote(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks an `asOf` instant: the ledger answers for the past and the present only, since a later
 * change could alter any answer about the future. Throws InvalidInputError for a later instant.
 */
export function parseAsOf(asOf: Date, now: Date): Date {
  if (asOf.getTime() > now.getTime()) {
    throw new InvalidInputError(
      `asOf must not be later than now (${now.toISOString()}), but got: ${asOf.toISOString()}; the ledger cannot know future changes. Omit asOf for the current answer.`,
      'asOf',
    );
  }
  return asOf;
}

/** The subject of a track representation: its id and the artist the catalog says it has (required). */
export function trackSubject(track: { readonly id: string; readonly artist?: unknown }): Subject {
  const artist = track.artist as { id?: unknown } | null | undefined;
  return { artistId: parseId(typeof artist === 'object' && artist !== null ? artist.id : undefined, 'Track.artist.id'), trackId: track.id };
}
