import { parseSetChange } from '../../src/consent/validate.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { DEMO_STATEMENTS } from './demoData.js';

/** The actor recorded for demo statements. */
export const DEMO_ACTOR = 'demo-seed';

/**
 * Records the demo statements through the ledger, each under a fixed idempotency key, so seeding
 * again writes nothing. Returns how many events were newly written.
 */
export async function seedDemo(store: ConsentStore, now = new Date()): Promise<number> {
  let written = 0;
  for (const [index, s] of DEMO_STATEMENTS.entries()) {
    const change = parseSetChange(
      {
        subject: { artistId: s.artistId, trackId: s.trackId ?? null },
        purpose: s.purpose,
        choice: s.choice,
        termsVersion: 'demo-terms-1',
        expiresAt: s.expiresAt === undefined ? null : new Date(s.expiresAt),
        source: 'demo seed',
        idempotencyKey: `demo-seed-${index + 1}`,
      },
      now,
    );
    const result = await store.append(change, DEMO_ACTOR, now);
    if (!result.replayed) written++;
  }
  return written;
}
