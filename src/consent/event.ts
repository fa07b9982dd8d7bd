import { createHash } from 'node:crypto';
import type { Purpose } from './purposes.js';
import type { Choice, Statement } from './statement.js';
import type { Change } from './validate.js';

/** Whether a ledger event made a statement or removed one. */
export type EventKind = 'SET' | 'CLEAR';

/** One entry of a subject's append-only ledger, as hashed and chained. */
export interface ConsentEvent {
  readonly id: string;
  readonly seq: number;
  readonly kind: EventKind;
  readonly artistId: string;
  readonly trackId: string | null;
  readonly purpose: Purpose;
  readonly choice: Choice | null;
  readonly termsVersion: string | null;
  readonly source: string | null;
  readonly actor: string;
  readonly at: Date;
  readonly expiresAt: Date | null;
  readonly prevHash: string | null;
  readonly hash: string;
}

/**
 * Every field of an event, declared once, in the canonical order: `canonical` fields make up the
 * hashed text in exactly this order; `chain` fields link the event to its predecessor.
 */
export const EVENT_FIELDS = {
  id: 'canonical',
  seq: 'canonical',
  kind: 'canonical',
  artistId: 'canonical',
  trackId: 'canonical',
  purpose: 'canonical',
  choice: 'canonical',
  termsVersion: 'canonical',
  source: 'canonical',
  actor: 'canonical',
  at: 'canonical',
  expiresAt: 'canonical',
  prevHash: 'chain',
  hash: 'chain',
} as const satisfies { readonly [K in keyof ConsentEvent]-?: 'canonical' | 'chain' };

// Object key order is insertion order for non-numeric keys, so this keeps the declared order.
const CANONICAL_FIELDS = (Object.keys(EVENT_FIELDS) as Array<keyof ConsentEvent>).filter((field) => EVENT_FIELDS[field] === 'canonical') as Array<
  Exclude<keyof ConsentEvent, 'prevHash' | 'hash'>
>;

/** An event before it is hashed. */
export type UnhashedEvent = Omit<ConsentEvent, 'hash'>;

const FIELD_NAMES = Object.keys(EVENT_FIELDS) as Array<keyof ConsentEvent>;

/** Copies exactly the event's fields out of anything that has them; `id` may be read from another field (a document's `_id`). */
export function pickEvent<S extends Omit<ConsentEvent, 'id'>>(source: S, id: string): ConsentEvent {
  const event: Record<string, unknown> = { id };
  for (const field of FIELD_NAMES) if (field !== 'id') event[field] = source[field];
  return event as unknown as ConsentEvent;
}

/**
 * The canonical text of an event: the canonical fields in their declared order, dates as ISO
 * strings, absent values as null. Changing it invalidates every stored hash, so it is versioned.
 */
export function canonicalEvent(event: UnhashedEvent): string {
  const values: Array<string | number | null> = ['consent-event/v1'];
  for (const field of CANONICAL_FIELDS) values.push(canonicalValue(event[field]));
  return JSON.stringify(values);
}

function canonicalValue(value: UnhashedEvent[keyof UnhashedEvent]): string | number | null {
  return value instanceof Date ? value.toISOString() : value;
}

/** Where a new event goes in its subject's chain. */
export interface ChainPosition {
  readonly id: string;
  readonly seq: number;
  readonly prevHash: string | null;
}

/** The unhashed event that records `change` by `actor` at `at`, at `position` of the subject's chain. */
export function eventOfChange(change: Change, position: ChainPosition, actor: string, at: Date): UnhashedEvent {
  const set = change.kind === 'SET' ? change : null;
  return {
    id: position.id,
    seq: position.seq,
    kind: change.kind,
    artistId: change.subject.artistId,
    trackId: change.subject.trackId,
    purpose: change.purpose,
    choice: set?.choice ?? null,
    termsVersion: set?.termsVersion ?? null,
    source: set?.source ?? null,
    actor,
    at,
    expiresAt: set?.expiresAt ?? null,
    prevHash: position.prevHash,
  };
}

/** Whether `event` records `change` (same subject, purpose and content; who and when aside). */
export function recordsChange(event: ConsentEvent, change: Change): boolean {
  return canonicalEvent(event) === canonicalEvent(eventOfChange(change, event, event.actor, event.at));
}

/** SHA-256 (hex) of the canonical event followed by the previous hash (empty for the first event). */
export function hashEvent(event: UnhashedEvent): string {
  return createHash('sha256')
    .update(canonicalEvent(event))
    .update(event.prevHash ?? '')
    .digest('hex');
}

/** A statement as its subject records it: the artist and track ids belong to the subject. */
export type SubjectStatement = Omit<Statement, 'artistId' | 'trackId'>;

/**
 * A subject's statements after one of its events: SET replaces the statement about its purpose,
 * CLEAR removes it. The store keeps the result in each ledger event and in the projection.
 */
export function applyToSubject(statements: readonly SubjectStatement[], event: UnhashedEvent): SubjectStatement[] {
  return replaceOrRemove(statements, event, () => statementMadeBy(event));
}

/** The statements in force on a subject after applying one event (`applyToSubject`, with the subject's ids). */
export function applyEvent(statements: readonly Statement[], event: ConsentEvent): Statement[] {
  return replaceOrRemove(statements, event, () => ({ ...statementMadeBy(event), artistId: event.artistId, trackId: event.trackId }));
}

// The one place the rule lives: untouched statements are kept as they are.
function replaceOrRemove<S extends { readonly purpose: Purpose }>(statements: readonly S[], event: UnhashedEvent, made: () => S): S[] {
  const rest = statements.filter((s) => s.purpose !== event.purpose);
  return event.kind === 'CLEAR' ? rest : [...rest, made()];
}

function statementMadeBy(event: UnhashedEvent): SubjectStatement {
  return {
    id: event.id,
    purpose: event.purpose,
    choice: event.choice as Choice,
    termsVersion: event.termsVersion as string,
    source: event.source,
    actor: event.actor,
    createdAt: event.at,
    expiresAt: event.expiresAt,
  };
}

/** The statements in force after a subject's whole chain of events, in sequence order. */
export function foldEvents(events: readonly ConsentEvent[]): Statement[] {
  return events.reduce<Statement[]>(applyEvent, []);
}
