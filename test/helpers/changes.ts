import type { Purpose } from '../../src/consent/purposes.js';
import type { Choice } from '../../src/consent/statement.js';
import type { ClearChange, SetChange } from '../../src/consent/validate.js';

/** A validated SET change (what `parseSetChange` returns): an ALLOW of `purpose` on the whole artist, unless overridden. */
export function aSetChange(artistId: string, purpose: Purpose, overrides: Partial<Omit<SetChange, 'kind'>> & { trackId?: string | null; choice?: Choice } = {}): SetChange {
  const { trackId = null, ...rest } = overrides;
  return {
    kind: 'SET',
    subject: { artistId, trackId },
    purpose,
    choice: 'ALLOW',
    termsVersion: 'tos-1',
    expiresAt: null,
    source: 'test',
    idempotencyKey: null,
    ...rest,
  };
}

/** A validated CLEAR change of `purpose` on the whole artist, or on `trackId` when given. */
export function aClearChange(artistId: string, purpose: Purpose, trackId: string | null = null): ClearChange {
  return { kind: 'CLEAR', subject: { artistId, trackId }, purpose, idempotencyKey: null };
}

/** Fields of a change input besides its subject and purpose; `trackId` goes into the subject. */
export type ChangeInputExtra = { trackId?: string } & Record<string, unknown>;
/** A subject as a change input carries it. */
export type SubjectInput = { artistId: string; trackId?: string };

/** A `changeConsents` item that sets: ALLOW of `purpose` on the artist (or `trackId`), unless overridden. */
export function aSetItem(artistId: string, purpose: string, extra: ChangeInputExtra = {}): { set: { subject: SubjectInput; purpose: string } & Record<string, unknown> } {
  const { trackId, ...rest } = extra;
  return { set: { subject: { artistId, ...(trackId ? { trackId } : {}) }, purpose, choice: 'ALLOW', termsVersion: 'tos-1', ...rest } };
}

/** A `changeConsents` item that clears `purpose` on the artist (or `trackId`). */
export function aClearItem(artistId: string, purpose: string, extra: ChangeInputExtra = {}): { clear: { subject: SubjectInput; purpose: string } & Record<string, unknown> } {
  const { trackId, ...rest } = extra;
  return { clear: { subject: { artistId, ...(trackId ? { trackId } : {}) }, purpose, ...rest } };
}
