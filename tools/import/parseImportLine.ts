import { createHash } from 'node:crypto';
import { InvalidInputError } from '../../src/consent/errors.js';
import { parseClearChange, parseSetChange, type Change } from '../../src/consent/validate.js';
import { parseDateTime } from '../../src/resolvers/DateTime.js';

/**
 * One line of an import file, validated: the change to record (its idempotency key given or
 * derived, and for a SET the evidence in `source`), who made the choice and when.
 */
export interface ImportLine {
  readonly change: Change;
  /** Who made the choice originally (an artist's account, a support agent, a label). */
  readonly actor: string;
  /** When the choice was made originally. */
  readonly at: Date;
}

// The fields of each part of a line: the GraphQL input types' fields (ConsentChangeInput's
// SetConsentInput / ClearConsentInput, without `credits`, which only shapes the returned decision),
// so an unknown field is refused the same way whichever path the line takes.
const LINE_FIELDS = ['set', 'clear', 'actor', 'at'];
const SET_FIELDS = ['subject', 'purpose', 'choice', 'termsVersion', 'expiresAt', 'source', 'idempotencyKey'];
const CLEAR_FIELDS = ['subject', 'purpose', 'idempotencyKey'];
const SUBJECT_FIELDS = ['artistId', 'trackId'];

const ACTOR_MAX = 128;
// SetConsentInput.source's limit (src/consent/validate.ts), which the evidence must fit.
const SOURCE_MAX = 200;

/** The prefix of idempotency keys the importer derives for lines without one. */
export const DERIVED_KEY_PREFIX = 'import:';

/**
 * Parses and validates one line of an import file at import time `now` (an expiry must lie after
 * it, the original time must not), with the core's own validation of the change, or throws
 * InvalidInputError saying what is wrong. The line's original actor and time go into a SET's
 * `source` as evidence (`importEvidence`); a line without an idempotency key gets one derived from
 * its validated content (`derivedKey`), so a re-run of the file replays instead of writing.
 */
export function parseImportLine(text: string, now: Date): ImportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`the line is not JSON (${(error as Error).message})`);
  }
  const line = objectOf(value, 'the line', 'a JSON object with "set" or "clear", "actor" and "at"');
  refuseUnknown(line, LINE_FIELDS, 'the line');
  if ((line.set === undefined) === (line.clear === undefined)) {
    throw new InvalidInputError('the line must have exactly one of "set" and "clear"');
  }
  const actor = parseActor(line.actor);
  const at = parseOriginalTime(line.at, now);
  if (line.set !== undefined) {
    const set = objectOf(line.set, 'set', 'a SetConsentInput object');
    refuseUnknown(set, SET_FIELDS, 'set');
    refuseUnknown(objectOf(set.subject, 'set.subject', 'an object with artistId and optional trackId'), SUBJECT_FIELDS, 'set.subject');
    const expiresAt = set.expiresAt === undefined || set.expiresAt === null ? null : within('set', () => parseDateTime(set.expiresAt));
    // The expiry must lie after the import (so also after the choice, which is not later).
    const change = within('set', () => parseSetChange({ ...set, expiresAt }, now));
    return { change: { ...change, source: importEvidence(change.source, actor, at), idempotencyKey: change.idempotencyKey ?? derivedKey(change, actor, at) }, actor, at };
  }
  const clear = objectOf(line.clear, 'clear', 'a ClearConsentInput object');
  refuseUnknown(clear, CLEAR_FIELDS, 'clear');
  refuseUnknown(objectOf(clear.subject, 'clear.subject', 'an object with artistId and optional trackId'), SUBJECT_FIELDS, 'clear.subject');
  const change = within('clear', () => parseClearChange(clear));
  return { change: { ...change, idempotencyKey: change.idempotencyKey ?? derivedKey(change, actor, at) }, actor, at };
}

/**
 * The `source` a SET is recorded with: who made the choice and when, then the line's own source.
 * A ClearConsentInput has no `source`, so a CLEAR keeps only its actor (direct mode) as evidence.
 */
export function importEvidence(source: string | null, actor: string, at: Date): string {
  const evidence = `import: chosen by ${actor} at ${at.toISOString()}${source === null ? '' : `; source: ${source}`}`;
  if (evidence.length > SOURCE_MAX) {
    throw new InvalidInputError(
      `set.source is too long to carry the import evidence: with this actor it may have at most ${SOURCE_MAX - (evidence.length - (source?.length ?? 0))} characters, but has ${source?.length ?? 0}`,
      'source',
    );
  }
  return evidence;
}

/**
 * The idempotency key of a line that has none: a SHA-256 of its validated content (the change,
 * the actor and the original time), so a re-run of the same file, even reformatted, replays each
 * line, and two lines differing in anything but layout get different keys.
 */
export function derivedKey(change: Change, actor: string, at: Date): string {
  const set = change.kind === 'SET' ? change : null;
  const content = JSON.stringify([
    'import-line/v1',
    change.kind,
    change.subject.artistId,
    change.subject.trackId,
    change.purpose,
    set?.choice ?? null,
    set?.termsVersion ?? null,
    set?.expiresAt?.toISOString() ?? null,
    set?.source ?? null,
    actor,
    at.toISOString(),
  ]);
  return `${DERIVED_KEY_PREFIX}${createHash('sha256').update(content).digest('base64url')}`;
}

function parseActor(value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > ACTOR_MAX || /[\u0000-\u001f]/.test(value)) {
    throw new InvalidInputError(`actor must be a non-blank string of at most ${ACTOR_MAX} characters without control characters (who made the choice), but got: ${quote(value)}`, 'actor');
  }
  return value;
}

function parseOriginalTime(value: unknown, now: Date): Date {
  if (value === undefined || value === null) throw new InvalidInputError('at is required: the ISO-8601 time the choice was made', 'at');
  const at = within('at', () => parseDateTime(value));
  if (at.getTime() > now.getTime()) {
    throw new InvalidInputError(`at must not be later than the import (${now.toISOString()}): a choice can't have been made in the future, but got: ${at.toISOString()}`, 'at');
  }
  return at;
}

function objectOf(value: unknown, what: string, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${what} must be ${expected}, but got: ${quote(value)}`);
  }
  return value as Record<string, unknown>;
}

function refuseUnknown(value: Record<string, unknown>, known: readonly string[], what: string): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new InvalidInputError(`${what} has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => quote(key)).join(', ')}; allowed: ${known.join(', ')}`);
  }
}

// Runs a core validation, prefixing its message with the part of the line it checked.
function within<T>(part: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(`${part}: ${error.message}`, error.field);
    throw error;
  }
}

function quote(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
