import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
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
import { aSetChange } from '../helpers/changes.js';
import { subscribe, subscribeSse, type OpenSubscription } from '../helpers/subscriptionClient.js';
import { readToken, TEST_SECRET } from '../helpers/tokens.js';

// `npm run bench:push`: the push of withdrawals. SUBSCRIBERS graphql-ws subscribers on one replica
// while writers append on a second replica (same database) as fast as the write path allows, then
// a gateway subscriber (SSE) with paced writes on the other replica. Latency is measured from the
// write's acknowledgement to the event's arrival, in this one process (one clock).

const SUBSCRIBERS = Number(process.env.PUSH_SUBSCRIBERS ?? 1000);
const WRITE_SECONDS = Number(process.env.PUSH_SECONDS ?? 10);
const WRITERS = Number(process.env.PUSH_WRITERS ?? 4);
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

    // 2. Cross-replica withdrawal → subscriber through the gateway.
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
