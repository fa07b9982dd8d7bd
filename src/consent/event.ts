import { createHash } from 'node:crypto';
import type { Purpose } from './purposes.js';
import type { Choice, Statement } from './statement.js';

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

/** An event before it is hashed. */
export type UnhashedEvent = Omit<ConsentEvent, 'hash'>;

/**
 * The canonical text of an event: fixed field order, dates as ISO strings, absent values as null.
 * Changing it invalidates every stored hash, so it is versioned.
 */
export function canonicalEvent(event: UnhashedEvent): string {
  return JSON.stringify([
    'consent-event/v1',
    event.id,
    event.seq,
    event.kind,
    event.artistId,
    event.trackId,
    event.purpose,
    event.choice,
    event.termsVersion,
    event.source,
    event.actor,
    event.at.toISOString(),
    event.expiresAt === null ? null : event.expiresAt.toISOString(),
  ]);
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
