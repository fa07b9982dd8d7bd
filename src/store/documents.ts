import { applyToSubject, eventOfChange, hashEvent, pickEvent, type ConsentEvent } from '../consent/event.js';
import type { Statement } from '../consent/statement.js';
import type { Change } from '../consent/validate.js';
import type { EventDoc, StateDoc } from './collections.js';

// The one module that copies between the database's documents and the core's types.

/** An event with its position in the global order (the change feed's cursor, the revision). */
export interface PositionedEvent {
  readonly event: ConsentEvent;
  readonly gseq: number;
}

/** The statements of a projection document, as the core takes them; none for a subject without one. */
export function statementsOf(doc: StateDoc | undefined): Statement[] {
  if (doc === undefined) return [];
  return doc.statements.map((s) => ({ ...s, artistId: doc.artistId, trackId: doc.trackId }));
}

/** A ledger document as the core's event type. */
export function eventFromDoc(doc: EventDoc): ConsentEvent {
  return pickEvent(doc, doc._id);
}

/** A ledger document as an event with its global position. */
export function positionedEventFromDoc(doc: EventDoc): PositionedEvent {
  return { event: eventFromDoc(doc), gseq: doc.gseq };
}

/** The revision string of a global position, as clients see it. */
export function revisionOf(gseq: number): string {
  return String(gseq);
}

/** What appending after a subject's head needs to know about it. */
export type ChainHead = Pick<EventDoc, 'artistId' | 'trackId' | 'seq' | 'gseq' | 'hash' | 'at' | 'state'>;

/** The id of a subject's event number `seq`: derived, so "is there an event after seq n?" is an `_id` lookup. */
export function eventIdOf(key: string, seq: number): string {
  return `${key}#${seq}`;
}

/** A projection document as a chain head (its `statements` are the head's `state`). */
export function headOfState(doc: StateDoc): ChainHead {
  // Projection documents written before `at` was kept have none; such a chain has no time to keep.
  return { ...doc, state: doc.statements, at: doc.at ?? new Date(0) };
}

/** The projection document for a subject whose ledger head is `head`. */
export function stateFromHead(head: ChainHead & { subject: string }): StateDoc {
  return {
    _id: head.subject,
    artistId: head.artistId,
    trackId: head.trackId,
    seq: head.seq,
    gseq: head.gseq,
    hash: head.hash,
    at: head.at,
    statements: head.state,
  };
}

/** The ledger document that appends `change` after `head` (exported for tests that simulate a crashed writer). */
export function nextEventDoc(
  change: Change,
  key: string,
  actor: string,
  now: Date,
  head: ChainHead | null,
  lastGseq: number,
  idem: string | null,
): EventDoc {
  const seq = (head?.seq ?? 0) + 1;
  const id = eventIdOf(key, seq);
  // A subject's chain never goes back in time, even if this host's clock is behind the last writer's.
  const at = head !== null && head.at.getTime() > now.getTime() ? head.at : now;
  const unhashed = eventOfChange(change, { id, seq, prevHash: head?.hash ?? null }, actor, at);
  const { id: _id, ...fields } = unhashed;
  return {
    _id,
    subject: key,
    gseq: lastGseq + 1,
    idem: idem ?? `event:${id}`,
    ...fields,
    hash: hashEvent(unhashed),
    state: applyToSubject(head?.state ?? [], unhashed),
  };
}
