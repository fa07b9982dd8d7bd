import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
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
import { subscribeSse } from '../helpers/subscriptionClient.js';
import { readToken, TEST_SECRET } from '../helpers/tokens.js';
import type { AppenderCommand, AppenderReply } from './pushAppender.js';
import { monotonicMs } from './monotonicMs.js';
import type { SubscriberCollection, SubscriberCommand, SubscriberReply, SubscriberStatus } from './pushSubscribers.js';
import { CLK_TCK, cpuTicks } from './processCpu.js';

// `npm run bench:push`: the push of withdrawals. SUBSCRIBERS graphql-ws subscribers on one replica
// while writers append on a second replica (same database) as fast as the write path allows, then
// the same subscribers while a second replica in its own process appends PUSH_RATE changes/s
// through the write path (one appendMany per 100 ms tick), then
// a gateway subscriber (SSE) with paced writes on the other replica. The subscribers live in
// CLIENT_PROCESSES forked processes (pushSubscribers.ts) and the appender in another
// (pushAppender.ts), so this process's CPU, event-loop delay and memory are the server's (in the
// first section, with the writers'); latency is measured from the write's acknowledgement to the
// event's arrival in a subscriber process, on the machine's one monotonic clock.

const SUBSCRIBERS = Number(process.env.PUSH_SUBSCRIBERS ?? 1000);
const CLIENT_PROCESSES = Number(process.env.PUSH_CLIENT_PROCESSES ?? 2);
const WRITE_SECONDS = Number(process.env.PUSH_SECONDS ?? 10);
const WRITERS = Number(process.env.PUSH_WRITERS ?? 4);
const PUSH_RATE = Number(process.env.PUSH_RATE ?? 100);
const TICK_MS = 100;
const WAVE = 25;
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
  const dbPid = (ferretdb as RunningFerretdb | null)?.process.pid ?? null;
  const stores: ConsentStore[] = [];
  const servers: ConsentServer[] = [];
  const pool = startSubscriberProcesses(CLIENT_PROCESSES);
  try {
    console.log(`# push benchmark — ${new Date().toISOString()}, ${cpus().length} cores, node ${process.version}`);
    console.log(`subscribers in ${CLIENT_PROCESSES} client processes (${Math.ceil(SUBSCRIBERS / CLIENT_PROCESSES)} each); the appender in another; the server and the first section's writers in the bench process; ${dbPid === null ? 'MONGODB_URI' : 'embedded FerretDB'} on the same machine`);
    console.log(`clock: ${await pool.checkClock()}`);
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

    // 1. Many subscribers on one replica, writers on another.
    {
      const before = serverMemoryAfterGc();
      await openSubscribers(pool, server, url, token);
      await sleep(500);
      const after = serverMemoryAfterGc();
      await pool.mark();
      const window = await measureServer(dbPid);
      const acked = new Map<string, number>();
      const deadline = monotonicMs() + WRITE_SECONDS * 1000;
      let n = 0;
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          while (monotonicMs() < deadline) {
            const { event } = await writerStore.append(aSetChange(`push-bench-${w}-${n++ % 50}`, 'AI_TRAINING', { choice: 'DENY' }), 'bench', new Date());
            acked.set(event.id, monotonicMs());
          }
        }),
      );
      await drain(pool, server, acked.size * SUBSCRIBERS);
      const used = await window.stop();
      const { latencies, collections } = await pool.collect(acked);
      const status = await pool.status();
      console.log(`\n## ${SUBSCRIBERS} subscribers on one replica, ${WRITERS} writers on another for ${WRITE_SECONDS} s`);
      console.log(`writes acknowledged: ${acked.size} (${(acked.size / WRITE_SECONDS).toFixed(0)}/s)`);
      console.log(`deliveries: ${latencies.length} of ${acked.size * SUBSCRIBERS} expected`);
      console.log(`latency from acknowledgement (ms): p50 ${pct(latencies, 50)}, p99 ${pct(latencies, 99)}, max ${pct(latencies, 100)}`);
      printServerMemory(before, after);
      printWindow(`server and the ${WRITERS} writers`, used, latencies.length, collections);
      printEnded(status);
      await pool.close(server);
    }

    // 2. The same number of subscribers at PUSH_RATE changes/s, appended by a second replica's write path.
    await pacedLedgerPush(pool, server, uri, url, token, dbPid);

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
        const at = monotonicMs();
        await sub.waitFor(i + 1, 10_000);
        if (sub.messages[i]!.data?.consentChanged?.id !== event.id) throw new Error(`gateway subscriber got ${JSON.stringify(sub.messages[i])}, expected ${event.id}`);
        gatewayLatencies.push(monotonicMs() - at);
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
    await pool.stop();
    for (const server of servers) await server.stop();
    await stores[0]?.collections.events.db.dropDatabase().catch(() => {});
    for (const store of stores) await store.close();
    await (ferretdb as RunningFerretdb | null)?.stop();
    if (dataDir !== null) await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * SUBSCRIBERS subscribers on the server's replica while the appender process inserts ledger events
 * for WRITE_SECONDS at PUSH_RATE; prints delivery latency from each batch's insert acknowledgement,
 * deliveries, the rates achieved, and the server process's CPU, event-loop delay and memory per subscriber.
 */
async function pacedLedgerPush(pool: SubscriberPool, server: ConsentServer, uri: string, url: string, token: string, dbPid: number | null): Promise<void> {
  const appender = startAppenderProcess();
  // The hub's reads (poller and catch-up), timed where they are made, to tell a slow database from a slow process.
  const feedSource = server.feed.feed;
  const readChanges = feedSource.changesAfter.bind(feedSource);
  const reads: number[] = [];
  const readErrors = new Map<string, number>();
  let inFlight = 0;
  feedSource.changesAfter = async (after, first) => {
    const began = monotonicMs();
    inFlight++;
    try {
      return await readChanges(after, first);
    } catch (error) {
      const name = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 120);
      readErrors.set(name, (readErrors.get(name) ?? 0) + 1);
      throw error;
    } finally {
      inFlight--;
      reads.push(monotonicMs() - began);
    }
  };
  try {
    const before = serverMemoryAfterGc();
    // Opened in waves, each after the last one's catch-up reads are answered: many catch-up reads
    // at once outlast the store deadline and end subscriptions with SERVICE_UNAVAILABLE.
    await openSubscribers(pool, server, url, token, () => inFlight <= 1);
    await sleep(500);
    const after = serverMemoryAfterGc();
    const perTick = Math.max(1, Math.round((PUSH_RATE * TICK_MS) / 1000));
    const ticks = Math.round((WRITE_SECONDS * 1000) / TICK_MS);
    await appender.ask({ kind: 'open', uri, dbName: DB_NAME });
    // Subscribers still catching up when the head starts moving keep re-reading instead of joining
    // the live stream, so one warm-up event that every subscriber has received starts the clock.
    await appender.ask({ kind: 'warmup' });
    const warmedBy = monotonicMs() + 60_000;
    let warmed = await pool.status();
    while (warmed.withEvent < SUBSCRIBERS && monotonicMs() < warmedBy) {
      await sleep(100);
      warmed = await pool.status();
    }
    await sleep(500);
    await pool.mark();
    const liveAtStart = server.feed.size;
    let liveAfterHalf = -1;
    const halfway = setTimeout(() => (liveAfterHalf = server.feed.size), WRITE_SECONDS * 500);
    const window = await measureServer(dbPid);
    const reply = await appender.ask({ kind: 'run', perTick, tickMs: TICK_MS, ticks });
    clearTimeout(halfway);
    if (reply.kind !== 'ran') throw new Error(`the appender answered ${reply.kind}`);
    const { start, seconds: elapsed, inserts, cpuMicros: appenderCpu } = reply.run;
    const acked = new Map(reply.run.acked);
    await drain(pool, server, acked.size * SUBSCRIBERS);
    const used = await window.stop();
    const { latencies, collections: received } = await pool.collect(acked);
    const status = await pool.status();
    const lastArrival = Math.max(...received.map((c) => c.lastArrival).filter((t) => !Number.isNaN(t)));
    const deliverySeconds = Number.isFinite(lastArrival) ? (lastArrival - start) / 1000 : NaN;
    console.log(`\n## ${SUBSCRIBERS} subscribers on one replica, ${PUSH_RATE} changes/s appended through a second replica's write path for ${WRITE_SECONDS} s`);
    console.log('(valid hash-chained events with the next gapless gseq, inserted in batches every 100 ms, not through setConsent:');
    console.log(' the write path lands fewer changes/s than this, and the subscription reads only the ledger)');
    console.log(`events acknowledged: ${acked.size} in ${elapsed.toFixed(1)} s (${(acked.size / elapsed).toFixed(0)}/s achieved, ${PUSH_RATE}/s asked)`);
    console.log(`deliveries: ${latencies.length} of ${acked.size * SUBSCRIBERS} expected, the last ${deliverySeconds.toFixed(1)} s after the first insert: ${(latencies.length / deliverySeconds).toFixed(0)} deliveries/s, ${(latencies.length / SUBSCRIBERS / deliverySeconds).toFixed(1)} changes/s to every subscriber`);
    console.log(`latency from insert acknowledgement (ms): p50 ${pct(latencies, 50)}, p99 ${pct(latencies, 99)}, max ${pct(latencies, 100)}`);
    printServerMemory(before, after);
    printWindow('server only', used, latencies.length, received, appenderCpu);
    console.log(`batch insert round trip (ms): p50 ${pct(inserts, 50)}, p99 ${pct(inserts, 99)}, max ${pct(inserts, 100)}`);
    console.log(`hub reads (poller and catch-up, from subscribing on): ${reads.length}, duration (ms) p50 ${pct(reads, 50)}, p99 ${pct(reads, 99)}, max ${pct(reads, 100)}; failed: ${readErrors.size === 0 ? 'none' : [...readErrors].map(([e, c]) => `${c}× ${e}`).join('; ')}`);
    console.log(`open subscriptions on the server: ${warmed.withEvent} had the warm-up event, ${liveAtStart} open when appending began, ${liveAfterHalf} halfway`);
    printEnded(status);
  } finally {
    feedSource.changesAfter = readChanges;
    await pool.close(server);
    await appender.stop();
  }
}

// --- the subscriber processes -------------------------------------------------------------------

interface SubscriberPool {
  /** Checks that the children read the same monotonic clock as this process; returns a line for the report. */
  checkClock(): Promise<string>;
  /** Opens `count` more subscriptions in child `child`. */
  open(child: number, url: string, token: string, count: number): Promise<void>;
  status(): Promise<SubscriberStatus>;
  /** Starts a measured window in every child: arrivals, counts and CPU from now. */
  mark(): Promise<void>;
  /** Every child's latencies of the acknowledged events since the mark, merged. */
  collect(acked: Map<string, number>): Promise<{ latencies: number[]; collections: SubscriberCollection[] }>;
  /** Closes every subscription and waits until the server has let go of them. */
  close(server: ConsentServer): Promise<void>;
  stop(): Promise<void>;
  readonly size: number;
}

type Command = SubscriberCommand extends infer C ? (C extends SubscriberCommand ? Omit<C, 'seq'> : never) : never;

function startSubscriberProcesses(count: number): SubscriberPool {
  const script = fileURLToPath(new URL('./pushSubscribers.ts', import.meta.url));
  const pending = new Map<number, { resolve: (reply: SubscriberReply) => void; reject: (error: Error) => void; child: ChildProcess }>();
  let seq = 0;
  const children = Array.from({ length: count }, (_, i) => {
    const child = fork(script, { execArgv: ['--import', 'tsx'], serialization: 'advanced' });
    child.on('message', (reply: SubscriberReply) => {
      const waiting = pending.get(reply.seq);
      pending.delete(reply.seq);
      if (reply.error !== undefined) waiting?.reject(new Error(`subscriber process ${i}: ${reply.error}`));
      else waiting?.resolve(reply);
    });
    child.on('exit', (code, signal) => {
      for (const [key, waiting] of pending) {
        if (waiting.child !== child) continue;
        pending.delete(key);
        waiting.reject(new Error(`subscriber process ${i} exited (${code ?? signal})`));
      }
    });
    return child;
  });
  const ask = <K extends SubscriberReply['kind']>(child: ChildProcess, command: Command): Promise<Extract<SubscriberReply, { kind: K }>> =>
    new Promise((resolve, reject) => {
      const key = ++seq;
      pending.set(key, { resolve: resolve as (reply: SubscriberReply) => void, reject, child });
      child.send({ ...command, seq: key });
    });
  const all = <K extends SubscriberReply['kind']>(command: Command) => Promise.all(children.map((child) => ask<K>(child, command)));
  return {
    size: count,
    async checkClock() {
      let worst = 0;
      for (const child of children) {
        await ask<'clock'>(child, { kind: 'clock' }); // the first answer waits for the child to load
        for (let round = 0; round < 20; round++) {
          const sent = monotonicMs();
          const { at } = await ask<'clock'>(child, { kind: 'clock' });
          const back = monotonicMs();
          if (at < sent || at > back) throw new Error(`a subscriber process read ${at} between ${sent} and ${back}: its clock is not this process's`);
          worst = Math.max(worst, back - sent);
        }
      }
      return `every subscriber process's monotonic reading fell inside the IPC round trip around it (20 probes each, longest round trip ${worst.toFixed(2)} ms)`;
    },
    async open(child, url, token, n) {
      await ask<'opened'>(children[child % count]!, { kind: 'open', url, token, query: WATCH, count: n });
    },
    async status() {
      const replies = await all<'status'>({ kind: 'status' });
      const ended: Record<string, number> = {};
      for (const { status } of replies) for (const [code, n] of Object.entries(status.ended)) ended[code] = (ended[code] ?? 0) + n;
      const sum = (key: 'opened' | 'withEvent' | 'received') => replies.reduce((total, { status }) => total + status[key], 0);
      return { opened: sum('opened'), withEvent: sum('withEvent'), received: sum('received'), ended };
    },
    async mark() {
      await all<'marked'>({ kind: 'mark' });
    },
    async collect(acked) {
      const replies = await all<'collected'>({ kind: 'collect', acked: [...acked] });
      const collections = replies.map((r) => r.collection);
      const latencies: number[] = [];
      for (const c of collections) for (const latency of c.latencies) latencies.push(latency);
      return { latencies, collections };
    },
    async close(server) {
      await all<'closed'>({ kind: 'close' });
      const until = monotonicMs() + 30_000;
      while (server.feed.size > 0 && monotonicMs() < until) await sleep(50);
      await sleep(500);
    },
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              if (child.connected) child.disconnect();
              else child.kill();
            }),
        ),
      );
    },
  };
}

// The appender (pushAppender.ts) in a process of its own; one command at a time.
function startAppenderProcess(): { ask(command: AppenderCommand): Promise<AppenderReply>; stop(): Promise<void> } {
  const child = fork(fileURLToPath(new URL('./pushAppender.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], serialization: 'advanced' });
  return {
    ask: (command) =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`the appender process exited (${code})`));
        child.once('exit', onExit);
        child.once('message', (reply: AppenderReply) => {
          child.off('exit', onExit);
          if (reply.error !== undefined) reject(new Error(`the appender process: ${reply.error}`));
          else resolve(reply);
        });
        child.send(command);
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

// SUBSCRIBERS subscriptions "from now", WAVE at a time, each child in turn; every wave is open on
// the server (and `idle` holds) before the next. Throws if the server never counts them all.
async function openSubscribers(pool: SubscriberPool, server: ConsentServer, url: string, token: string, idle: () => boolean = () => true): Promise<void> {
  let opened = 0;
  for (let wave = 0; opened < SUBSCRIBERS; wave++) {
    const n = Math.min(WAVE, SUBSCRIBERS - opened);
    await pool.open(wave, url, token, n);
    opened += n;
    const until = monotonicMs() + 60_000;
    while ((server.feed.size < opened || !idle()) && monotonicMs() < until) await sleep(20);
    if (server.feed.size < opened) throw new Error(`only ${server.feed.size} of ${opened} subscriptions open on the server after 60 s: ${JSON.stringify(await pool.status())}`);
  }
}

// Waits until the children have received `expected` events since the mark, the server has no
// subscription left, or 30 s have passed without the count moving.
async function drain(pool: SubscriberPool, server: ConsentServer, expected: number): Promise<void> {
  let last = -1;
  let movedAt = monotonicMs();
  for (;;) {
    const { received } = await pool.status();
    if (received >= expected || server.feed.size === 0) return;
    if (received !== last) {
      last = received;
      movedAt = monotonicMs();
    } else if (monotonicMs() - movedAt > 30_000) return;
    await sleep(200);
  }
}

// --- the server process's figures ---------------------------------------------------------------

interface ServerWindow {
  readonly seconds: number;
  readonly cpuMicros: number;
  readonly dbCpuMicros: number | null;
  readonly loopDelayP50: number;
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
}

// CPU time and event-loop delay of this process (the server's), and the database's CPU time, from now until `stop`.
async function measureServer(dbPid: number | null): Promise<{ stop(): Promise<ServerWindow> }> {
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const dbBefore = dbPid === null ? null : await cpuTicks(dbPid);
  const began = monotonicMs();
  const cpuBefore = process.cpuUsage();
  return {
    async stop() {
      const cpu = process.cpuUsage(cpuBefore);
      const seconds = (monotonicMs() - began) / 1000;
      loopDelay.disable();
      const dbAfter = dbPid === null ? null : await cpuTicks(dbPid);
      return {
        seconds,
        cpuMicros: cpu.user + cpu.system,
        dbCpuMicros: dbBefore === null || dbAfter === null ? null : ((dbAfter - dbBefore) / CLK_TCK) * 1e6,
        loopDelayP50: loopDelay.percentile(50) / 1e6,
        loopDelayP99: loopDelay.percentile(99) / 1e6,
        loopDelayMax: loopDelay.max / 1e6,
      };
    },
  };
}

function printWindow(what: string, window: ServerWindow, deliveries: number, clients: SubscriberCollection[], appenderCpu?: number): void {
  const s = (micros: number) => (micros / 1e6).toFixed(1);
  const perDelivery = deliveries === 0 ? NaN : window.cpuMicros / deliveries;
  console.log(`server process (${what}), from the first write until delivery ended (${window.seconds.toFixed(1)} s): event-loop delay (ms) p50 ${window.loopDelayP50.toFixed(1)}, p99 ${window.loopDelayP99.toFixed(1)}, max ${window.loopDelayMax.toFixed(1)}`);
  console.log(
    `server process CPU: ${s(window.cpuMicros)} s (${((100 * window.cpuMicros) / 1e6 / window.seconds).toFixed(0)} % of one core), ${perDelivery.toFixed(1)} µs per delivery` +
      ` (one event loop at that cost: at most ${Math.floor(1e6 / perDelivery)} deliveries/s, ${(1e6 / perDelivery / SUBSCRIBERS).toFixed(1)} changes/s to ${SUBSCRIBERS} subscribers)`,
  );
  const clientCpu = clients.reduce((total, c) => total + c.cpuMicros, 0);
  const clientDelay = clients.map((c) => `p99 ${c.loopDelayP99.toFixed(1)} / max ${c.loopDelayMax.toFixed(1)}`).join('; ');
  console.log(
    `other CPU in that time: FerretDB ${window.dbCpuMicros === null ? 'n/a' : `${s(window.dbCpuMicros)} s`},${appenderCpu === undefined ? '' : ` the appender process ${s(appenderCpu)} s (while appending),`} the ${clients.length} client processes ${s(clientCpu)} s (their event-loop delay, ms: ${clientDelay}); ` +
      `${cpus().length} cores × ${window.seconds.toFixed(1)} s = ${(cpus().length * window.seconds).toFixed(1)} s available`,
  );
}

interface ServerMemory {
  heap: number;
  external: number;
  rss: number;
}

function serverMemoryAfterGc(): ServerMemory {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, external, rss } = process.memoryUsage();
  return { heap: heapUsed, external, rss };
}

// RSS is printed for completeness: memory freed by an earlier section stays mapped and is reused, so its delta can be negative.
function printServerMemory(before: ServerMemory, after: ServerMemory): void {
  const kib = (bytes: number) => (bytes / SUBSCRIBERS / 1024).toFixed(1);
  console.log(
    `server process memory per subscriber (after GC, before vs after subscribing): heap ${kib(after.heap - before.heap)} KiB, ` +
      `outside the heap (sockets' buffers) ${kib(after.external - before.external)} KiB, RSS ${kib(after.rss - before.rss)} KiB`,
  );
}

function printEnded(status: SubscriberStatus): void {
  const ended = Object.entries(status.ended);
  console.log(`subscriptions ended with an error: ${ended.length === 0 ? 'none' : ended.map(([code, count]) => `${count} ${code}`).join(', ')}`);
}


function pct(values: number[], p: number): string {
  if (values.length === 0) return 'n/a';
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
