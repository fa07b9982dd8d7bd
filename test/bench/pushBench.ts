import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { startFerretdb, type RunningFerretdb } from '../../dev/embedded/startFerretdb.js';
import { CATALOG_SDL, startCatalogSubgraph } from '../../dev/catalog/startCatalogSubgraph.js';
import { createGateway } from '../../gateway/createGateway.js';
import { serveGateway } from '../../gateway/serveGateway.js';
import { createTokenVerifier } from '../../src/auth/createTokenVerifier.js';
import { CONSENT_SDL } from '../../src/schema.js';
import { createServer, type ConsentServer } from '../../src/server.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { openStore } from '../../src/store/openStore.js';
import { bumpProjectionVersion } from '../../src/store/projectionVersion.js';
import { stateFromHead } from '../../src/store/documents.js';
import { aSetChange } from '../helpers/changes.js';
import { ledgerDocs } from '../helpers/seedLedger.js';
import { subscribe, subscribeSse, type OpenSubscription } from '../helpers/subscriptionClient.js';
import { readToken, TEST_SECRET } from '../helpers/tokens.js';

// `npm run bench:push`: the push of withdrawals. SUBSCRIBERS graphql-ws subscribers on one replica
// while writers append on a second replica (same database) as fast as the write path allows, then
// a gateway subscriber (SSE) with paced writes on the other replica. Latency is measured from the
// write's acknowledgement to the event's arrival, in this one process (one clock). A second
// section appends valid ledger events straight into the ledger at PUSH_RATE, because the write
// path cannot land that many changes per second and the subscription only reads the ledger.

const SUBSCRIBERS = Number(process.env.PUSH_SUBSCRIBERS ?? 1000);
const WRITE_SECONDS = Number(process.env.PUSH_SECONDS ?? 10);
const WRITERS = Number(process.env.PUSH_WRITERS ?? 4);
const PUSH_RATE = Number(process.env.PUSH_RATE ?? 100);
const TICK_MS = 100;
const GATEWAY_WRITES = Number(process.env.PUSH_GATEWAY_WRITES ?? 50);
const DB_NAME = 'consent_push_bench';

const WATCH = 'subscription { consentChanged { id } }';

async function main(): Promise<void> {
  let ferretdb: RunningFerretdb | null = null;
  let dataDir: string | null = null;
  const uri =
    process.env.MONGODB_URI ??
    (await (async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'consent-push-bench-'));
      ferretdb = await startFerretdb({ dataDir });
      return ferretdb.uri;
    })());
  const stores: ConsentStore[] = [];
  const servers: ConsentServer[] = [];
  const subs: OpenSubscription[] = [];
  try {
    console.log(`# push benchmark — ${new Date().toISOString()}, ${cpus().length} cores, node ${process.version}`);
    const primary = await openStore({ uri, dbName: DB_NAME, timeoutMs: 5000 });
    stores.push(primary);
    await primary.collections.events.db.dropDatabase();
    const writerStore = await openStore({ uri, dbName: DB_NAME, timeoutMs: 5000 });
    stores.push(writerStore);
    const verifier = createTokenVerifier({ kind: 'secret', secret: TEST_SECRET });
    const server = await createServer({ store: primary, verifier, logger: pino({ level: 'silent' }) });
    servers.push(server);
    const url = await server.listen(0, '127.0.0.1');
    const token = await readToken();

    // 1. Many subscribers on one replica.
    const arrivals = new Map<string, number[]>();
    const heapBefore = heapAfterGc();
    for (let i = 0; i < SUBSCRIBERS; i++) subs.push(subscribe(url, WATCH, {}, { token }));
    while (server.feed.size < SUBSCRIBERS) await sleep(50);
    await sleep(500);
    const heapAfter = heapAfterGc();
    const watchers = subs.map((sub) => {
      let seen = 0;
      return setInterval(() => {
        for (; seen < sub.messages.length; seen++) {
          const id = sub.messages[seen]!.data?.consentChanged?.id as string | undefined;
          if (id !== undefined) (arrivals.get(id) ?? arrivals.set(id, []).get(id)!).push(performance.now());
        }
      }, 5);
    });
    const acked = new Map<string, number>();
    const deadline = performance.now() + WRITE_SECONDS * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        while (performance.now() < deadline) {
          const { event } = await writerStore.append(aSetChange(`push-bench-${w}-${n++ % 50}`, 'AI_TRAINING', { choice: 'DENY' }), 'bench', new Date());
          acked.set(event.id, performance.now());
        }
      }),
    );
    const drainUntil = performance.now() + 30_000;
    while ([...acked.keys()].some((id) => (arrivals.get(id)?.length ?? 0) < SUBSCRIBERS) && performance.now() < drainUntil) await sleep(100);
    watchers.forEach(clearInterval);
    const latencies: number[] = [];
    let delivered = 0;
    for (const [id, at] of acked) {
      for (const t of arrivals.get(id) ?? []) {
        latencies.push(t - at);
        delivered++;
      }
    }
    console.log(`\n## ${SUBSCRIBERS} subscribers on one replica, ${WRITERS} writers on another for ${WRITE_SECONDS} s`);
    console.log(`writes acknowledged: ${acked.size} (${(acked.size / WRITE_SECONDS).toFixed(0)}/s)`);
    console.log(`deliveries: ${delivered} of ${acked.size * SUBSCRIBERS} expected`);
    console.log(`latency from acknowledgement (ms): p50 ${pct(latencies, 50)}, p99 ${pct(latencies, 99)}, max ${pct(latencies, 100)}`);
    console.log(`heap per subscriber (server and client in this process, upper bound): ${((heapAfter - heapBefore) / SUBSCRIBERS / 1024).toFixed(1)} KiB`);
    await Promise.all(subs.splice(0).map((s) => s.close()));

    // 2. The same number of subscribers at PUSH_RATE changes/s, appended directly to the ledger.
    await pacedLedgerPush(server, writerStore, url, token);

    // 3. Cross-replica withdrawal → subscriber through the gateway.
    const catalog = await startCatalogSubgraph({ artists: [], tracks: [] });
    const gateway = await serveGateway(
      createGateway({ subgraphs: [{ name: 'catalog', url: catalog.url, sdl: CATALOG_SDL }, { name: 'consent', url, sdl: CONSENT_SDL }], auth: { kind: 'secret', secret: TEST_SECRET } }),
      0,
      '127.0.0.1',
    );
    try {
      const sub = subscribeSse(gateway.url, WATCH, {}, token);
      while (server.feed.size < 1) await sleep(20);
      await sleep(300);
      const gatewayLatencies: number[] = [];
      for (let i = 0; i < GATEWAY_WRITES; i++) {
        const { event } = await writerStore.append(aSetChange('push-bench-gw', 'VOICE_REPLICATION', { choice: i % 2 === 0 ? 'DENY' : 'ALLOW' }), 'bench', new Date());
        const at = performance.now();
        await sub.waitFor(i + 1, 10_000);
        if (sub.messages[i]!.data?.consentChanged?.id !== event.id) throw new Error(`gateway subscriber got ${JSON.stringify(sub.messages[i])}, expected ${event.id}`);
        gatewayLatencies.push(performance.now() - at);
        await sleep(50 + Math.random() * 100);
      }
      await sub.close();
      console.log(`\n## withdrawal on replica B → gateway subscriber (SSE) → subscription on replica A, ${GATEWAY_WRITES} paced writes`);
      console.log(`latency from acknowledgement (ms): p50 ${pct(gatewayLatencies, 50)}, p99 ${pct(gatewayLatencies, 99)} (target ≤ 1000)`);
    } finally {
      await gateway.stop();
      await catalog.stop();
    }
  } finally {
    await Promise.all(subs.map((s) => s.close()));
    for (const server of servers) await server.stop();
    await stores[0]?.collections.events.db.dropDatabase().catch(() => {});
    for (const store of stores) await store.close();
    await (ferretdb as RunningFerretdb | null)?.stop();
    if (dataDir !== null) await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * SUBSCRIBERS subscribers on the server's replica while a paced appender inserts ledger events
 * (each a new subject's first event, built by the store's own `nextEventDoc` with the next gapless
 * gseq, plus its projection document) for WRITE_SECONDS at PUSH_RATE; prints delivery latency from
 * each batch's insert acknowledgement, deliveries, the achieved rate and heap per subscriber.
 */
async function pacedLedgerPush(server: ConsentServer, writerStore: ConsentStore, url: string, token: string): Promise<void> {
  const subs: OpenSubscription[] = [];
  try {
    // The hub's reads (poller and catch-up), timed where they are made, to tell a slow database from a slow process.
    const feedSource = server.feed.feed;
    const readChanges = feedSource.changesAfter.bind(feedSource);
    const reads: number[] = [];
    const readErrors = new Map<string, number>();
    let inFlight = 0;
    feedSource.changesAfter = async (after, first) => {
      const began = performance.now();
      inFlight++;
      try {
        return await readChanges(after, first);
      } catch (error) {
        const name = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 120);
        readErrors.set(name, (readErrors.get(name) ?? 0) + 1);
        throw error;
      } finally {
        inFlight--;
        reads.push(performance.now() - began);
      }
    };
    // The previous section's subscriptions must be gone from the server before the baseline.
    while (server.feed.size > 0) await sleep(50);
    await sleep(500);
    const heapBefore = heapAfterGc();
    // Opened in waves, each after the last one's catch-up reads are answered: many catch-up reads
    // at once outlast the store deadline and end subscriptions with SERVICE_UNAVAILABLE.
    for (let i = 0; i < SUBSCRIBERS; i++) {
      subs.push(subscribe(url, WATCH, {}, { token }));
      if (subs.length % 25 === 0 || subs.length === SUBSCRIBERS) {
        while (server.feed.size < subs.length) await sleep(20);
        while (inFlight > 1) await sleep(20);
      }
    }
    await sleep(500);
    const heapAfter = heapAfterGc();
    const arrivals = new Map<string, number[]>();
    const seen = subs.map(() => 0);
    // One timer scans every subscriber, so the scan itself does not add a thousand timers of load.
    const watcher = setInterval(() => {
      const now = performance.now();
      subs.forEach((sub, s) => {
        for (; seen[s]! < sub.messages.length; seen[s]!++) {
          const id = sub.messages[seen[s]!]!.data?.consentChanged?.id as string | undefined;
          if (id !== undefined) (arrivals.get(id) ?? arrivals.set(id, []).get(id)!).push(now);
        }
      });
    }, 5);
    const { collections } = writerStore;
    // Nothing else writes during this section, so the appender owns the gseq sequence from here.
    let lastGseq = await writerStore.latestGseq();
    const perTick = Math.max(1, Math.round((PUSH_RATE * TICK_MS) / 1000));
    const ticks = Math.round((WRITE_SECONDS * 1000) / TICK_MS);
    const acked = new Map<string, number>();
    // Server, clients and appender share this event loop: its delay says whether the process kept up.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    const inserts: number[] = [];
    loopDelay.enable();
    // Subscribers still catching up when the head starts moving keep re-reading instead of joining
    // the live stream, so one warm-up event that every subscriber has received starts the clock.
    const warmup = ledgerDocs([{ change: aSetChange('push-rate-warmup', 'AI_TRAINING', { choice: 'DENY' }), actor: 'bench', at: new Date() }], lastGseq + 1);
    await collections.events.insertMany(warmup, { ordered: true });
    await collections.states.insertMany(warmup.map(stateFromHead));
    lastGseq += 1;
    const warmedBy = performance.now() + 60_000;
    while (subs.some((sub, s) => sub.messages.length === 0 || seen[s] === 0) && performance.now() < warmedBy) await sleep(100);
    const warmed = subs.filter((sub) => sub.messages.some((m) => m.data?.consentChanged?.id === warmup[0]!._id)).length;
    await sleep(500);
    const liveAtStart = server.feed.size;
    let liveAfterHalf = -1;
    const start = performance.now();
    for (let tick = 0; tick < ticks; tick++) {
      const due = start + tick * TICK_MS;
      if (performance.now() < due) await sleep(due - performance.now());
      const at = new Date();
      const changes = Array.from({ length: perTick }, (_, i) => ({
        change: aSetChange(`push-rate-${tick}-${i}`, 'AI_TRAINING', { choice: 'DENY' }),
        actor: 'bench',
        at,
      }));
      const docs = ledgerDocs(changes, lastGseq + 1);
      // Ordered, so gseq becomes visible in order and the poller never waits on a gap.
      const sent = performance.now();
      await collections.events.insertMany(docs, { ordered: true });
      const ackedAt = performance.now();
      inserts.push(ackedAt - sent);
      for (const doc of docs) acked.set(doc._id, ackedAt);
      lastGseq += docs.length;
      if (tick === Math.floor(ticks / 2)) liveAfterHalf = server.feed.size;
      // The projection the write path would keep, after the acknowledgement the latency starts from.
      await collections.states.insertMany(docs.map(stateFromHead), { ordered: false });
      await bumpProjectionVersion(collections);
    }
    const elapsed = (performance.now() - start) / 1000;
    const drainUntil = performance.now() + 30_000;
    while (server.feed.size > 0 && [...acked.keys()].some((id) => (arrivals.get(id)?.length ?? 0) < SUBSCRIBERS) && performance.now() < drainUntil) await sleep(100);
    loopDelay.disable();
    feedSource.changesAfter = readChanges;
    clearInterval(watcher);
    const latencies: number[] = [];
    for (const [id, at] of acked) for (const t of arrivals.get(id) ?? []) latencies.push(t - at);
    console.log(`\n## ${SUBSCRIBERS} subscribers on one replica, ${PUSH_RATE} changes/s appended directly to the ledger for ${WRITE_SECONDS} s`);
    console.log('(valid hash-chained events with the next gapless gseq, inserted in batches every 100 ms, not through setConsent:');
    console.log(' the write path lands fewer changes/s than this, and the subscription reads only the ledger)');
    console.log(`events acknowledged: ${acked.size} in ${elapsed.toFixed(1)} s (${(acked.size / elapsed).toFixed(0)}/s achieved, ${PUSH_RATE}/s asked)`);
    console.log(`deliveries: ${latencies.length} of ${acked.size * SUBSCRIBERS} expected`);
    console.log(`latency from insert acknowledgement (ms): p50 ${pct(latencies, 50)}, p99 ${pct(latencies, 99)}, max ${pct(latencies, 100)}`);
    console.log(`heap per subscriber (server and client in this process, upper bound): ${((heapAfter - heapBefore) / SUBSCRIBERS / 1024).toFixed(1)} KiB`);
    console.log(`event-loop delay while appending and draining (ms): p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)}, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)}, max ${(loopDelay.max / 1e6).toFixed(1)}`);
    console.log(`batch insert round trip (ms): p50 ${pct(inserts, 50)}, p99 ${pct(inserts, 99)}, max ${pct(inserts, 100)}`);
    console.log(`hub reads (poller and catch-up, from subscribing on): ${reads.length}, duration (ms) p50 ${pct(reads, 50)}, p99 ${pct(reads, 99)}, max ${pct(reads, 100)}; failed: ${readErrors.size === 0 ? 'none' : [...readErrors].map(([e, c]) => `${c}× ${e}`).join('; ')}`);
    console.log(`open subscriptions on the server: ${warmed} had the warm-up event, ${liveAtStart} open when appending began, ${liveAfterHalf} halfway`);
    const ended = new Map<string, number>();
    for (const sub of subs) {
      for (const error of sub.messages.flatMap((m) => m.errors ?? [])) {
        const code = error.extensions?.code ?? error.message;
        ended.set(code, (ended.get(code) ?? 0) + 1);
      }
    }
    console.log(`subscriptions ended with an error: ${ended.size === 0 ? 'none' : [...ended].map(([code, count]) => `${count} ${code}`).join(', ')}`);
  } finally {
    await Promise.all(subs.map((s) => s.close()));
  }
}

function heapAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function pct(values: number[], p: number): string {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
