import { hashEvent, type ConsentEvent, type UnhashedEvent } from '../../src/consent/event.js';
import type { Statement } from '../../src/consent/statement.js';

/** A fixed instant the fixtures default to, so tests never depend on the clock. */
export const T0 = new Date('2026-01-01T00:00:00.000Z');

/** `T0` moved by `ms` milliseconds (negative moves back). */
export function atOffset(ms: number, from: Date = T0): Date {
  return new Date(from.getTime() + ms);
}

let statementCount = 0;
let eventCount = 0;

/** A statement: an artist-wide ALLOW of GENERATIVE_AI_TRAINING made at `T0`, never expiring, unless overridden. */
export function aStatement(overrides: Partial<Statement> = {}): Statement {
  statementCount += 1;
  return {
    id: `statement-${statementCount}`,
    artistId: 'artist-1',
    trackId: null,
    purpose: 'GENERATIVE_AI_TRAINING',
    choice: 'ALLOW',
    termsVersion: 'tos-1',
    source: null,
    actor: 'user-1',
    createdAt: T0,
    expiresAt: null,
    ...overrides,
  };
}

/** A track-scoped statement: `aStatement` with `trackId` 'track-1' unless overridden. */
export function aTrackStatement(overrides: Partial<Statement> = {}): Statement {
  return aStatement({ trackId: 'track-1', ...overrides });
}

/**
 * A ledger event: the first SET (seq 1, no prevHash) of an artist-wide ALLOW of
 * GENERATIVE_AI_TRAINING at `T0`, unless overridden. `hash` is computed from the other fields with
 * `hashEvent`; pass `hash` explicitly only to build a tampered event.
 */
export function anEvent(overrides: Partial<ConsentEvent> = {}): ConsentEvent {
  eventCount += 1;
  const { hash, ...rest } = overrides;
  const unhashed: UnhashedEvent = {
    id: `event-${eventCount}`,
    seq: 1,
    kind: 'SET',
    artistId: 'artist-1',
    trackId: null,
    purpose: 'GENERATIVE_AI_TRAINING',
    choice: 'ALLOW',
    termsVersion: 'tos-1',
    source: null,
    actor: 'user-1',
    at: T0,
    expiresAt: null,
    prevHash: null,
    ...rest,
  };
  return { ...unhashed, hash: hash ?? hashEvent(unhashed) };
}

/** A CLEAR event: `anEvent` with kind CLEAR and no choice or terms version, unless overridden. */
export function aClearEvent(overrides: Partial<ConsentEvent> = {}): ConsentEvent {
  return anEvent({ kind: 'CLEAR', choice: null, termsVersion: null, ...overrides });
}
