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
