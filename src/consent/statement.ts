import type { Purpose } from './purposes.js';

/** An artist's explicit choice. */
export type Choice = 'ALLOW' | 'DENY';

/** Whose statement: the whole artist, or one of the artist's tracks. */
export interface Subject {
  readonly artistId: string;
  readonly trackId: string | null;
}

/** A statement in force on a subject (the latest SET about a purpose that no CLEAR has removed). */
export interface Statement {
  /** The id of the ledger event that made it. */
  readonly id: string;
  readonly artistId: string;
  readonly trackId: string | null;
  readonly purpose: Purpose;
  readonly choice: Choice;
  readonly termsVersion: string;
  readonly source: string | null;
  readonly actor: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
}

/** Whether a statement still decides at time `at` (expiry is exclusive: at `expiresAt` it has expired). */
export function isInForce(statement: Statement, at: Date): boolean {
  return statement.createdAt.getTime() <= at.getTime() &&
    (statement.expiresAt === null || statement.expiresAt.getTime() > at.getTime());
}
