import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startService } from '../../src/service.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { DEFAULT_GATHER } from '../../src/store/LedgerWriter.js';
import { aSetChange } from '../helpers/changes.js';
import { aFreshDbName, aFreshStore, dropStore, mongoUri } from '../helpers/database.js';
import { TEST_SECRET } from '../helpers/environments.js';

// The group commit gathers a stream (LedgerWriter `gather`): while changes from concurrent callers
// keep arriving, a round waits up to DEFAULT_GATHER.windowMs for more, so a steady stream is
// committed in fewer, larger rounds. A caller that sends each change only after the answer to the
// last one (a lone user, an import) is never held.

const stores: ConsentStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0).reverse()) await dropStore(store);
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('group commit gathering', () => {
  it('commits a stream of 200 changes/s from concurrent callers in rounds of several changes, every change acknowledged once, in a gapless order', async () => {
    const store = await aFreshStore();
    stores.push(store);
    const CHANGES = 300;
    const started = performance.now();
    const writes: Promise<{ revision: string; ms: number }>[] = [];
    for (let i = 0; i < CHANGES; i++) {
      // Open loop: a new caller every 5 ms, whether or not the earlier ones have their answers.
      const sent = performance.now();
      writes.push(store.append(aSetChange(`gather-${i}`, 'AI_TRAINING'), 'test', new Date()).then((r) => ({ revision: r.revision, ms: performance.now() - sent })));
      const next = started + (i + 1) * 5;
      if (next > performance.now()) await pause(next - performance.now());
    }
    const results = await Promise.all(writes);

    const revisions = results.map((r) => Number(r.revision)).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: CHANGES }, (_, i) => revisions[0]! + i));
    expect(await store.collections.events.countDocuments({})).toBe(CHANGES);
    // Without gathering, a round on an idle database takes a few ms and carries one or two changes
    // of this stream; with it, about what the window of the stream brings.
    expect(CHANGES / store.writeRounds.rounds).toBeGreaterThanOrEqual(DEFAULT_GATHER.minChanges);
    // No change waits much longer than the window plus a round or two.
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(DEFAULT_GATHER.windowMs + 2000);
  });

  it('never holds a caller that waits for each answer before sending the next change, alone or in batches', async () => {
    const store = await aFreshStore();
    stores.push(store);
    for (let i = 0; i < 60; i++) await store.append(aSetChange(`serial-${i % 3}`, 'AI_TRAINING', { choice: i % 2 === 0 ? 'ALLOW' : 'DENY' }), 'test', new Date());
    for (let batch = 0; batch < 20; batch++) {
      await store.appendMany(Array.from({ length: 10 }, (_, i) => ({ change: aSetChange(`serial-batch-${batch}-${i}`, 'RECOMMENDATION'), actor: 'test', now: new Date() })));
    }
    expect(store.writeRounds).toEqual({ rounds: 80, gathered: 0 });
  });

  it('does not hold a fixed set of callers, each waiting for its answer, for the window', async () => {
    // A long window: a round that waited for more changes than these callers can send would stand out.
    const gather = { windowMs: 1000, minChanges: 4 };
    const store = await aFreshStore({ gather });
    stores.push(store);
    const CALLERS = 20;
    const EACH = 6;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        for (let i = 0; i < EACH; i++) {
          await store.append(aSetChange(`closed-${caller}`, 'AI_TRAINING', { choice: i % 2 === 0 ? 'ALLOW' : 'DENY' }), 'test', new Date());
          // Each sends again a moment after its answer, as a client over the network does.
          await pause(1 + (caller % 3));
        }
      }),
    );
    const elapsed = performance.now() - started;
    expect(await store.collections.events.countDocuments({})).toBe(CALLERS * EACH);
    // Rounds gather (changes arrive while rounds commit) but wake once every caller is back; only
    // the last rounds, whose callers are done, may wait out the window. Waiting for what the rate
    // alone promises (hundreds in a second) would cost a window per round.
    expect(store.writeRounds.gathered).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(3 * gather.windowMs);
  });

  it('waits out the window when the stream stops mid-wait, and then commits what it holds', async () => {
    // A long window, so the wait is plain to see.
    const gather = { windowMs: 400, minChanges: 4 };
    const store = await aFreshStore({ gather });
    stores.push(store);
    const waited = await burstThenTwoLate(store);
    expect(store.writeRounds).toEqual({ rounds: 2, gathered: 1 });
    expect(waited).toBeGreaterThanOrEqual(gather.windowMs);
    expect(waited).toBeLessThan(gather.windowMs + 5000);
    expect(await store.collections.events.countDocuments({})).toBe(102);
  });

  it('takes its window from WRITE_GATHER_MS in the service, and never waits with 0', async () => {
    expect(loadConfig({}).writeGatherMs).toBe(DEFAULT_GATHER.windowMs);
    for (const [windowMs, gathered] of [
      [0, 0],
      [400, 1],
    ] as const) {
      const config = loadConfig({ MONGODB_URI: mongoUri(), MONGODB_DB: aFreshDbName(), AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', LOG_LEVEL: 'silent', WRITE_GATHER_MS: String(windowMs) });
      const service = await startService(config, { log: () => {} });
      try {
        const waited = await burstThenTwoLate(service.store);
        expect(service.store.writeRounds).toEqual({ rounds: 2, gathered });
        if (windowMs > 0) expect(waited).toBeGreaterThanOrEqual(windowMs);
      } finally {
        await service.store.collections.events.db.dropDatabase().catch(() => {});
        await service.stop();
      }
    }
  });
});

/**
 * 100 concurrent callers in one tick (the first round takes them: nothing came while a round was
 * open, so it does not wait), then two more while that round commits: the next round expects the
 * rate to bring more and waits, unless gathering is off. Returns how long the two late ones took (ms).
 */
async function burstThenTwoLate(store: ConsentStore): Promise<number> {
  const burst = Array.from({ length: 100 }, (_, i) => store.append(aSetChange(`burst-${i}`, 'AI_TRAINING'), 'test', new Date()));
  await pause(1);
  expect(store.writeRounds.rounds).toBe(1);
  const sent = performance.now();
  const late = Array.from({ length: 2 }, (_, i) => store.append(aSetChange(`burst-late-${i}`, 'AI_TRAINING'), 'test', new Date()));
  await Promise.all(burst);
  const lateResults = await Promise.all(late);
  const waited = performance.now() - sent;
  expect(new Set(lateResults.map((r) => r.revision)).size).toBe(2);
  return waited;
}
