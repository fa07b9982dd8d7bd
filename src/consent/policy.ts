import { PURPOSES, isAiPurpose, type Purpose } from './purposes.js';
import type { Choice } from './statement.js';

/** The platform's default answer for each purpose, used when no statement decides. */
export interface Policy {
  readonly version: string;
  readonly defaults: Readonly<Record<Purpose, Choice>>;
}

/** The default policy: every AI purpose is opt-in (DENY); recommendation and advertising are ALLOW. */
export const DEFAULT_POLICY: Policy = Object.freeze({
  version: 'platform-default-2026-11',
  defaults: Object.freeze(
    Object.fromEntries(PURPOSES.map((p) => [p, isAiPurpose(p) ? 'DENY' : 'ALLOW'])) as Record<Purpose, Choice>,
  ),
});
