import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createTokenVerifier } from '../../src/auth/createTokenVerifier.js';
import { startFerretdb, type RunningFerretdb } from '../../dev/embedded/startFerretdb.js';
import { partiesOf } from '../../src/consent/credits.js';
import { decideAll } from '../../src/consent/decide.js';
import { decideAllParties, statementsOfParties, type PartyStatements } from '../../src/consent/parties.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import type { Subject } from '../../src/consent/statement.js';
import { statementsOf } from '../../src/store/documents.js';
import { subjectKey } from '../../src/store/subjectKey.js';
import { createServer, type ConsentServer } from '../../src/server.js';
import { loadConfig } from '../../src/config.js';
import { ConsentStore } from '../../src/store/ConsentStore.js';
import { CACHE_REFRESH_COMMENT } from '../../src/store/ProjectionCache.js';
import { openStore } from '../../src/store/openStore.js';
import { READ_COMMANDS } from '../helpers/database.js';
import { seededRandom } from '../helpers/seededRandom.js';
import { readToken } from '../helpers/tokens.js';
import type { LoadResult } from './loadGenerator.js';
import { MemoryStore } from './MemoryStore.js';
import { NaiveStore } from './NaiveStore.js';
import { runLoad } from './runLoad.js';
import { artistId, seedBenchData, trackId, trackIndex, type BenchCatalog } from './seedBenchData.js';
import { runWriteRows } from './writeRows.js';
import { CLK_TCK, cpuTicks } from './processCpu.js';

// `npm run bench`: seeds a realistic data set, then loads the real subgraph, a naive variant and
// the in-memory ceiling side by side and prints one table, then the write rows (writeRows.ts).
// See BENCHMARKS.md for how to read it.

const QUICK = process.env.BENCH_QUICK === '1';

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, but got: ${JSON.stringify(raw)}`);
  return value;
}
// Each run is sized from a calibration to take about this long; see plannedLoad().
const DURATION = positive('BENCH_DURATION', QUICK ? 5 : 20);
const FULL_CONCURRENCY = process.env.BENCH_FULL_CONCURRENCY === '1';
const CONNECTIONS = positive('BENCH_CONNECTIONS', 10);
const P99_CONNECTIONS = 50;
// Read variants and `writes` (the write rows); `BENCH_ONLY=writes` runs the write rows alone.
const ONLY = new Set((process.env.BENCH_ONLY ?? 'real,uncached,naive,ceiling,writes').split(','));
for (const name of ONLY) {
  if (!['real', 'uncached', 'naive', 'ceiling', 'writes'].includes(name)) throw new Error(`BENCH_ONLY must list real, uncached, naive, ceiling or writes, but got: ${JSON.stringify(name)}`);
}
const WRITE_SECONDS = positive('BENCH_WRITE_SECONDS', DURATION);
const WRITERS = positive('BENCH_WRITERS', 50);
const WRITE_RATE = positive('BENCH_WRITE_RATE', 200);
const WRITE_BATCH = positive('BENCH_WRITE_BATCH', 1000);
const DB_NAME = process.env.BENCH_DB ?? 'consent_bench';
// Generous so a saturated database shows up as latency, not as SERVICE_UNAVAILABLE; the service's
// own default (DB_TIMEOUT_MS=2000) would turn the slowest of these requests into errors.
const DB_TIMEOUT_MS = positive('BENCH_DB_TIMEOUT_MS', 600_000);
const SECRET = 'benchmark-secret-that-is-at-least-32-characters';
const PURPOSE_COUNT = 9;
const WITH_CREDITS = (tracks: number) => `_entities ${tracks} tracks with credits × 9 purposes`;

const ENTITIES_QUERY = /* GraphQL */ `
  query Tracks($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Track { id consent { decisions { purpose allowed basis scope policyVersion statement { id choice createdAt expiresAt } } } }
    }
  }`;

// The same request with each track's credits in its representation, as the gateway sends them for
// `@requires(fields: "artist { id } featuredArtists { id } originalArtists { id }")`, and every party's answer.
const ENTITIES_CREDITS_QUERY = /* GraphQL */ `
  query TracksWithCredits($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Track { id consent { decisions { purpose allowed basis scope policyVersion statement { id choice createdAt expiresAt } parties { artistId role allowed basis scope } } } }
    }
  }`;

// The reads table's credits column asks for every party of one purpose: nine purposes with every
// party are priced at the parties cap (DESIGN §7) and exceed the request budget at 1000 tracks.
const ENTITIES_CREDITS_ONE_PURPOSE_QUERY = /* GraphQL */ `
  query TracksWithCreditsOnePurpose($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Track { id consent { decision(purpose: VOICE_REPLICATION) { allowed basis scope statement { id } parties { artistId role allowed basis scope } } } }
    }
  }`;

const DECISIONS_QUERY = /* GraphQL */ `
  query Decisions($requests: [DecisionRequest!]!, $purpose: ConsentPurpose!) {
    consentDecisions(requests: $requests, purpose: $purpose) { purpose allowed basis scope policyVersion statement { id } }
  }`;

interface Variant {
  readonly name: 'real' | 'uncached' | 'naive' | 'ceiling';
  readonly url: string;
  readonly store: ConsentStore;
}

interface Workload {
  readonly name: string;
  readonly decisionsPerRequest: number;
  readonly bodies: string[];
  readonly connections: number;
}

interface Row {
  readonly variant: string;
  readonly workload: string;
  readonly connections: number;
  /** Mean latency of the calibration requests, alone (ms). */
  readonly aloneMs: number;
  readonly load: LoadResult;
  readonly decisionsPerSecond: number;
  readonly readsPerRequest: number;
  readonly subgraphCpuUsPerDecision: number;
  readonly dbCpuUsPerDecision: number | null;
  readonly peakRssMb: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  let ferretdb: RunningFerretdb | null = null;
  let dataDir: string | null = null;
  const uri = process.env.MONGODB_URI ?? (await (async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'consent-bench-db-'));
    ferretdb = await startFerretdb({ dataDir, log: (line) => console.log(line) });
    return ferretdb.uri;
  })());
  const engine = process.env.MONGODB_URI ? `MONGODB_URI (${redact(uri)})` : 'embedded FerretDB v1.24.2 (SQLite backend)';
  const dbPid = (ferretdb as RunningFerretdb | null)?.process.pid ?? null;
  const servers: ConsentServer[] = [];
  let store: ConsentStore | null = null;
  try {
    console.log(`# consent subgraph benchmark — ${new Date().toISOString()}`);
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, NODE_ENV=${process.env.NODE_ENV ?? '(unset)'}, load average ${loadAverage()}`);
    console.log(`database: ${engine}, db "${DB_NAME}" (dropped and re-seeded)`);
    console.log(`runs: ${DURATION} s each, ${CONNECTIONS} connections (${P99_CONNECTIONS} for the 10-track latency run)${QUICK ? ', BENCH_QUICK' : ''}; BENCH_ONLY=${[...ONLY].join(',')}\n`);

    store = await openStore({ uri, dbName: DB_NAME, timeoutMs: DB_TIMEOUT_MS });
    await store.collections.events.db.dropDatabase();
    await store.close();
    // The service's default cache (CACHE_MAX_SUBJECTS): the real variant is the service as deployed.
    store = await openStore({ uri, dbName: DB_NAME, timeoutMs: DB_TIMEOUT_MS, cache: { maxSubjects: loadConfig({}).cacheMaxSubjects } });

    const seedStart = Date.now();
    const catalog = await seedBenchData(store.collections, {}, (line) => console.log(line));
    console.log(
      `seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s: ${catalog.artists} artists, ${catalog.tracks} tracks, ` +
        `${catalog.tracksWithStatements} tracks (${pct(catalog.tracksWithStatements / catalog.tracks)}) and ${catalog.artistsWithStatements} artists with statements, ` +
        `${catalog.events} ledger events, ${catalog.stateDocs} projection documents; the busiest artist has ${catalog.maxTrackStatementsPerArtist} tracks with statements`,
    );
    console.log(
      `credits: ${catalog.featuredOf.size} tracks (${pct(catalog.featuredOf.size / catalog.tracks)}) feature other artists, ${catalog.originalsOf.size} (${pct(catalog.originalsOf.size / catalog.tracks)}) derive from originals; ` +
        `${catalog.creditStatements} statements by credited artists about those tracks\n`,
    );

    const token = await readToken(SECRET, 'bench');
    const verifier = createTokenVerifier({ kind: 'secret', secret: SECRET });
    const logger = pino({ level: 'silent' });
    const refreshStart = performance.now();
    await store.cache!.refresh();
    const refreshSeconds = (performance.now() - refreshStart) / 1000;
    console.log(
      `cache: ${store.cache!.enabled ? `loaded ${catalog.stateDocs} projection documents in ${refreshSeconds.toFixed(2)} s` : 'off (projection larger than CACHE_MAX_SUBJECTS)'} ` +
        `(what a replica pays when it starts or the projection changes outside the commit log), ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB heap in use after loading\n`,
    );
    const stores = {
      real: store,
      uncached: new ConsentStore(store.client, store.collections, store.deadlineMs),
      naive: new NaiveStore(store.client, store.collections, store.deadlineMs),
      ceiling: new MemoryStore(store.client, store.collections, catalog.states),
    };
    const variants: Variant[] = [];
    for (const name of ['real', 'uncached', 'naive', 'ceiling'] as const) {
      if (!ONLY.has(name)) continue;
      const server = await createServer({ store: stores[name], verifier, logger });
      servers.push(server);
      variants.push({ name, url: await server.listen(0, '127.0.0.1'), store: stores[name] });
    }

    const reads = readCounter(store);
    if (variants.length > 0) {
      const rows: Row[] = [];
      // Deterministic request mix, so runs are comparable.
      const random = seededRandom(7);
      // The rows with credits ask about the same tracks as those without, so the two compare directly.
      const entitiesBodies = (n: number, count: number) => {
        const picks = Array.from({ length: count }, () => trackRepresentations(catalog, n, random));
        return {
          plain: picks.map((representations) => JSON.stringify({ query: ENTITIES_QUERY, variables: { representations } })),
          credits: picks.map((representations) => JSON.stringify({ query: ENTITIES_CREDITS_QUERY, variables: { representations: withCredits(catalog, representations) } })),
        };
      };
      console.log(`each run: about ${DURATION} s of requests, sized from the latency of one request alone (columns "alone ms", "conns")\n`);

      // Each check below also proves the variant answers correctly before it is timed.
      const decisionsAvailable = await supportsConsentDecisions(variants[0]!, token, catalog, random);
      const partiesAvailable = await supportsParties(variants[0]!, token, catalog);
      const [hundred, ten] = [entitiesBodies(100, 64), entitiesBodies(10, 256)];
      const workloads: Array<{ workload: Workload; variants: Variant['name'][] }> = [
        { workload: { name: '_entities 100 tracks × 9 purposes', decisionsPerRequest: 100 * PURPOSE_COUNT, bodies: hundred.plain, connections: CONNECTIONS }, variants: ['real', 'uncached', 'naive', 'ceiling'] },
        { workload: { name: '_entities 10 tracks × 9 purposes', decisionsPerRequest: 10 * PURPOSE_COUNT, bodies: ten.plain, connections: P99_CONNECTIONS }, variants: ['real', 'uncached', 'naive', 'ceiling'] },
      ];
      if (decisionsAvailable) {
        workloads.push({
          workload: {
            name: 'consentDecisions 1000 requests × 1 purpose',
            decisionsPerRequest: 1000,
            bodies: Array.from({ length: 16 }, () =>
              JSON.stringify({ query: DECISIONS_QUERY, variables: { requests: decisionRequests(catalog, 1000, random), purpose: 'VOICE_REPLICATION' } }),
            ),
            connections: CONNECTIONS,
          },
          variants: ['real', 'uncached', 'ceiling'],
        });
      }
      if (partiesAvailable) {
        workloads.push(
          { workload: { name: WITH_CREDITS(100), decisionsPerRequest: 100 * PURPOSE_COUNT, bodies: hundred.credits, connections: CONNECTIONS }, variants: ['real', 'ceiling'] },
          { workload: { name: WITH_CREDITS(10), decisionsPerRequest: 10 * PURPOSE_COUNT, bodies: ten.credits, connections: P99_CONNECTIONS }, variants: ['real', 'ceiling'] },
        );
      }

      // The variants that make FerretDB scan its collections over and over (uncached, naive) run
      // after the others, so they can't slow a row that follows them (seen here: the real 10-track
      // row gave 808-822 req/s after them, 1,307 req/s in a run without them).
      for (const group of [['real', 'ceiling'], ['uncached', 'naive']]) {
        for (const { workload, variants: names } of workloads) {
          for (const variant of variants.filter((v) => group.includes(v.name) && names.includes(v.name))) {
            const aloneMs = await check(variant, token, workload);
            rows.push(await measure(variant, workload, token, reads, dbPid, aloneMs));
            printRow(rows[rows.length - 1]!);
          }
        }
      }
      const order = ['real', 'uncached', 'naive', 'ceiling'];
      const workloadOrder = workloads.map((w) => w.workload.name);
      rows.sort((a, b) => workloadOrder.indexOf(a.workload) - workloadOrder.indexOf(b.workload) || order.indexOf(a.variant) - order.indexOf(b.variant));

      console.log('\n## Results\n');
      printTable(rows);
      if (!decisionsAvailable) console.log('\nconsentDecisions: not available in this build');
      if (!partiesAvailable) console.log('\ncredits rows: not available in this build (its schema has no Track.featuredArtists / ConsentDecision.parties, DESIGN §7)');
      printRatios(rows);
      printCreditsCost(rows);

      console.log('\n## Cost of parties per decision, in the core alone (no HTTP, no GraphQL)\n');
      printCoreCost(catalog);

      const cache = store.cache!.counts;
      console.log(`\nreal variant's cache over the whole run: ${cache.hits} requests answered from memory, ${cache.misses} from the database, ${cache.refreshes} loads`);

      console.log('\n## Database reads per request (one request each)\n');
      console.log('| N tracks | real: reads | real: latency ms | uncached: reads | uncached: latency ms | naive: reads | naive: latency ms | ceiling: latency ms | real with credits (one purpose, every party): reads | real with credits: latency ms |');
      console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
      let naiveMsPerRead = 0;
      for (const n of [1, 10, 100, 1000]) {
        const representations = trackRepresentations(catalog, n, random);
        const body = JSON.stringify({ query: ENTITIES_QUERY, variables: { representations } });
        const keys = new Set(representations.flatMap((r) => [`artist/${r.artist.id}`, `track/${r.artist.id}/${r.id}`])).size;
        const cells: string[] = [String(n)];
        for (const name of ['real', 'uncached', 'naive', 'ceiling'] as const) {
          const variant = variants.find((v) => v.name === name);
          if (variant === undefined) {
            cells.push(...(name === 'ceiling' ? ['—'] : ['—', '—']));
            continue;
          }
          // The naive variant reads once per subject key; on a database where each read scans,
          // 1000 tracks would take many minutes, so past a minute its count is stated, not run.
          const estimateMs = naiveMsPerRead * keys;
          if (name === 'naive' && estimateMs > 60_000) {
            cells.push(`${keys} (not run)`, `≈ ${Math.round(estimateMs / 1000)} s (estimated)`);
            continue;
          }
          const before = reads.count();
          const t0 = performance.now();
          const res = await post(variant.url, token, body);
          const ms = performance.now() - t0;
          if (res.errors !== undefined || res.data?._entities?.length !== n) throw new Error(`${name} N=${n} answered wrongly: ${JSON.stringify(res).slice(0, 300)}`);
          if (name !== 'ceiling') cells.push(String(reads.count() - before));
          if (name === 'naive') naiveMsPerRead = ms / Math.max(1, reads.count() - before);
          cells.push(ms.toFixed(1));
        }
        const real = variants.find((v) => v.name === 'real');
        if (partiesAvailable && real !== undefined) {
          const before = reads.count();
          const t0 = performance.now();
          const res = await post(real.url, token, JSON.stringify({ query: ENTITIES_CREDITS_ONE_PURPOSE_QUERY, variables: { representations: withCredits(catalog, representations) } }));
          const ms = performance.now() - t0;
          if (res.errors !== undefined || res.data?._entities?.length !== n) throw new Error(`real with credits N=${n} answered wrongly: ${JSON.stringify(res).slice(0, 300)}`);
          cells.push(String(reads.count() - before), ms.toFixed(1));
        } else {
          cells.push('—', '—');
        }
        console.log(`| ${cells.join(' | ')} |`);
      }
    }

    if (ONLY.has('writes')) {
      const random = seededRandom(11);
      await runWriteRows({
        uri,
        dbName: DB_NAME,
        secret: SECRET,
        store,
        catalog,
        readBodies: Array.from({ length: 256 }, () => JSON.stringify({ query: ENTITIES_QUERY, variables: { representations: trackRepresentations(catalog, 10, random) } })),
        seconds: WRITE_SECONDS,
        writers: WRITERS,
        rate: WRITE_RATE,
        batch: WRITE_BATCH,
        mixedPairs: positive('BENCH_MIXED_PAIRS', 3),
        importLines: process.env.BENCH_IMPORT_LINES ? positive('BENCH_IMPORT_LINES', 1) : null,
        idle: () => reads.idle(),
        dbPid,
        log: (line) => console.log(line),
      });
    }
    console.log(`\ntotal time ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${loadAverage()}`);
  } finally {
    for (const server of servers) await server.stop().catch(() => {});
    await store?.close().catch(() => {});
    await (ferretdb as RunningFerretdb | null)?.stop();
    if (dataDir !== null) await rm(dataDir, { recursive: true, force: true });
  }
}

/** Runs one load and measures the subgraph process and the database around it. */
async function measure(variant: Variant, workload: Workload, token: string, reads: ReadCounter, dbPid: number | null, aloneMs: number): Promise<Row> {
  let plan = plannedLoad(workload.connections, aloneMs);
  if (aloneMs <= FAST_MS) {
    // A fast variant serves concurrent requests faster than one after another (while one waits
    // for the database another runs), so a short load at full concurrency, which also warms up
    // that path, sizes the run to DURATION at the rate it really sustains.
    const probe = await runLoad({ url: variant.url, token, bodies: workload.bodies, connections: plan.connections, amount: Math.max(plan.connections * 20, Math.floor(PROBE_MS / aloneMs)) });
    await reads.idle();
    plan = { connections: plan.connections, amount: Math.max(plan.amount, Math.floor(probe.requestsPerSecond * DURATION)) };
  }
  const readsBefore = reads.count();
  const cpuBefore = process.cpuUsage();
  const dbBefore = dbPid === null ? null : await cpuTicks(dbPid);
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  const load = await runLoad({ url: variant.url, token, bodies: workload.bodies, ...plan });
  // Requests the load generator timed out may still be running here; let them finish so they are
  // counted with this run and don't slow the next one.
  await reads.idle();
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuBefore);
  const dbAfter = dbPid === null ? null : await cpuTicks(dbPid);
  // Requests still out when the generator stopped were served afterwards (see idle()): count their work.
  const served = Math.max(1, load.requests + load.unfinished);
  const decisions = served * workload.decisionsPerRequest;
  return {
    variant: variant.name,
    workload: workload.name,
    connections: plan.connections,
    aloneMs,
    load,
    decisionsPerSecond: load.requestsPerSecond * workload.decisionsPerRequest,
    readsPerRequest: (reads.count() - readsBefore) / served,
    subgraphCpuUsPerDecision: (cpu.user + cpu.system) / Math.max(1, decisions),
    dbCpuUsPerDecision: dbBefore === null || dbAfter === null ? null : ((dbAfter - dbBefore) * (1e6 / CLK_TCK)) / Math.max(1, decisions),
    peakRssMb: peak / 2 ** 20,
  };
}

/**
 * How many requests, over how many connections, fit in about DURATION seconds given the latency of
 * one request alone. A slow variant gets fewer connections (never fewer than 1 request): where the
 * database serialises queries, c connections make each request wait about c × aloneMs, and past
 * the deadline they would only measure timeouts. BENCH_FULL_CONCURRENCY=1 keeps every connection.
 */
function plannedLoad(connections: number, aloneMs: number): { connections: number; amount: number } {
  const budgetMs = DURATION * 1000;
  const c = FULL_CONCURRENCY ? connections : Math.max(1, Math.min(connections, Math.floor(budgetMs / aloneMs)));
  return { connections: c, amount: Math.max(c, Math.floor(budgetMs / aloneMs)) };
}

/**
 * Checks the variant's answers (a few requests: complete and error-free), then warms it up and
 * returns the latency of one request alone (ms): for a fast variant, the median of the second
 * half of WARM_UP_MS of requests sent one after another (so the JIT has compiled the paths the
 * load takes and the run is sized from steady-state latency); for a slow one, the mean of the
 * check requests (a request slower than DURATION is sent once).
 */
async function check(variant: Variant, token: string, workload: Workload): Promise<number> {
  const { total, sent } = await checkAnswers(variant, token, workload);
  if (total / sent > FAST_MS) return total / sent;
  const latencies: number[] = [];
  const until = performance.now() + WARM_UP_MS;
  for (let i = 0; performance.now() < until; i++) {
    const t0 = performance.now();
    await post(variant.url, token, workload.bodies[i % workload.bodies.length]!);
    latencies.push(performance.now() - t0);
  }
  const steady = latencies.slice(Math.floor(latencies.length / 2)).sort((x, y) => x - y);
  return steady[Math.floor(steady.length / 2)] ?? total / sent;
}

// How long a fast variant is warmed up before it is measured, and how long (at one request at a
// time's rate) its concurrent sizing probe is; "fast" is at most FAST_MS alone.
const WARM_UP_MS = 3000;
const PROBE_MS = 3000;
const FAST_MS = 200;

async function checkAnswers(variant: Variant, token: string, workload: Workload): Promise<{ total: number; sent: number }> {
  let total = 0;
  let sent = 0;
  for (const body of workload.bodies.slice(0, 3)) {
    const t0 = performance.now();
    const res = await post(variant.url, token, body);
    total += performance.now() - t0;
    sent++;
    const list = res.data?._entities ?? res.data?.consentDecisions;
    const expected = workload.decisionsPerRequest;
    const got = Array.isArray(list) ? (res.data?._entities ? list.length * PURPOSE_COUNT : list.length) : 0;
    if (res.errors !== undefined || got !== expected) {
      throw new Error(`${variant.name} answered ${workload.name} wrongly: ${JSON.stringify(res).slice(0, 400)}`);
    }
    if (total > DURATION * 1000) break;
  }
  return { total, sent };
}

// Before the consent schema has DESIGN §7 (parties, credits in @requires), the credits rows are left out.
async function supportsParties(variant: Variant, token: string, catalog: BenchCatalog): Promise<boolean> {
  const representations = withCredits(catalog, trackRepresentations(catalog, 2, seededRandom(3)));
  const res = await post(variant.url, token, JSON.stringify({ query: ENTITIES_CREDITS_QUERY, variables: { representations } }));
  return res.errors === undefined && Array.isArray(res.data?._entities);
}

async function supportsConsentDecisions(variant: Variant, token: string, catalog: BenchCatalog, random: () => number): Promise<boolean> {
  const res = await post(variant.url, token, JSON.stringify({ query: DECISIONS_QUERY, variables: { requests: decisionRequests(catalog, 2, random), purpose: 'VOICE_REPLICATION' } }));
  return res.errors === undefined && Array.isArray(res.data?.consentDecisions);
}

interface ReadCounter {
  count(): number;
  /** Resolves once no command of the store's client is in flight (at most 120 s). */
  idle(): Promise<void>;
}

// Counts read commands the way the tests do (test/helpers/database.ts), on the server's own client.
function readCounter(store: ConsentStore): ReadCounter {
  let reads = 0;
  let inFlight = 0;
  store.client.on('commandStarted', (event) => {
    inFlight++;
    // The cache's loads are counted apart (printed above), as the tests count reads.
    if (READ_COMMANDS.has(event.commandName) && event.command.comment !== CACHE_REFRESH_COMMENT) reads++;
  });
  store.client.on('commandSucceeded', () => inFlight--);
  store.client.on('commandFailed', () => inFlight--);
  return {
    count: () => reads,
    idle: async () => {
      const deadline = Date.now() + 120_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

function trackRepresentations(catalog: BenchCatalog, n: number, random: () => number) {
  return Array.from({ length: n }, () => {
    const t = Math.floor(random() * catalog.tracks);
    return { __typename: 'Track', id: trackId(t), artist: { id: artistId(catalog.artistOf[t]!) } };
  });
}

// Every representation carries both lists, empty where the catalog credits nobody, as the gateway sends them.
function withCredits(catalog: BenchCatalog, representations: ReturnType<typeof trackRepresentations>) {
  return representations.map((r) => {
    const t = trackIndex(r.id);
    const ids = (list: readonly number[] | undefined) => (list ?? []).map((a) => ({ id: artistId(a) }));
    return { ...r, featuredArtists: ids(catalog.featuredOf.get(t)), originalArtists: ids(catalog.originalsOf.get(t)) };
  });
}

function decisionRequests(catalog: BenchCatalog, n: number, random: () => number) {
  return Array.from({ length: n }, () => {
    const t = Math.floor(random() * catalog.tracks);
    return { artistId: artistId(catalog.artistOf[t]!), trackId: trackId(t) };
  });
}

async function post(url: string, token: string, body: string): Promise<{ data?: any; errors?: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  return (await response.json()) as { data?: any; errors?: unknown };
}


function printRow(row: Row): void {
  const l = row.load;
  console.log(
    `${row.variant.padEnd(9)} ${row.workload.padEnd(44)} ${String(row.connections).padStart(2)} conns ${String(l.requests).padStart(5)} reqs ${l.requestsPerSecond.toFixed(1).padStart(8)} req/s ` +
      `${Math.round(row.decisionsPerSecond).toString().padStart(9)} dec/s  p50 ${ms(l.p50)} p95 ${ms(l.p95)} p99 ${ms(l.p99)} ms  ` +
      `${row.readsPerRequest.toFixed(2)} reads/req  ${l.failures} failed  ${l.unfinished} unfinished`,
  );
}

function printTable(rows: Row[]): void {
  console.log('| variant | workload | conns | requests | alone ms | req/s | decisions/s | p50 ms | p95 ms | p99 ms | DB reads/req | subgraph CPU µs/decision | DB CPU µs/decision | peak RSS MB | failed | unfinished |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const l = r.load;
    console.log(
      `| ${r.variant} | ${r.workload} | ${r.connections} | ${l.requests} | ${r.aloneMs.toFixed(1)} | ${l.requestsPerSecond.toFixed(1)} | ${Math.round(r.decisionsPerSecond)} | ${ms(l.p50)} | ${ms(l.p95)} | ${ms(l.p99)} | ` +
        `${r.readsPerRequest.toFixed(2)} | ${r.subgraphCpuUsPerDecision.toFixed(2)} | ${r.dbCpuUsPerDecision === null ? 'n/a' : r.dbCpuUsPerDecision.toFixed(2)} | ${Math.round(r.peakRssMb)} | ${l.failures} | ${l.unfinished} |`,
    );
  }
}

function printRatios(rows: Row[]): void {
  console.log('');
  for (const workload of new Set(rows.map((r) => r.workload))) {
    const of = (variant: string) => rows.find((r) => r.workload === workload && r.variant === variant)?.load.requestsPerSecond;
    const [real, uncached, naive, ceiling] = [of('real'), of('uncached'), of('naive'), of('ceiling')];
    const parts: string[] = [];
    if (real !== undefined && naive !== undefined) parts.push(`real/naive = ${(real / naive).toFixed(2)}×`);
    if (real !== undefined && ceiling !== undefined) parts.push(`real/ceiling = ${(real / ceiling).toFixed(3)}`);
    if (uncached !== undefined && naive !== undefined) parts.push(`uncached/naive = ${(uncached / naive).toFixed(2)}×`);
    if (uncached !== undefined && ceiling !== undefined) parts.push(`uncached/ceiling = ${(uncached / ceiling).toFixed(3)}`);
    if (parts.length > 0) console.log(`${workload}: ${parts.join(', ')}`);
  }
}

// What answering with every credited party costs the server, row against row over the same tracks.
function printCreditsCost(rows: Row[]): void {
  for (const n of [100, 10]) {
    for (const variant of ['real', 'ceiling']) {
      const plain = rows.find((r) => r.variant === variant && r.workload === `_entities ${n} tracks × 9 purposes`);
      const credited = rows.find((r) => r.variant === variant && r.workload === WITH_CREDITS(n));
      if (plain === undefined || credited === undefined) continue;
      console.log(
        `${variant}, ${n} tracks with credits vs without: subgraph CPU ${credited.subgraphCpuUsPerDecision.toFixed(2)} vs ${plain.subgraphCpuUsPerDecision.toFixed(2)} µs/decision ` +
          `(×${(credited.subgraphCpuUsPerDecision / plain.subgraphCpuUsPerDecision).toFixed(2)}), ${credited.readsPerRequest.toFixed(2)} vs ${plain.readsPerRequest.toFixed(2)} DB reads/req, ` +
          `${credited.load.requestsPerSecond.toFixed(1)} vs ${plain.load.requestsPerSecond.toFixed(1)} req/s`,
      );
    }
  }
}

/**
 * CPU per decision of the core on the seeded statements, for tracks drawn from the catalogue:
 * today's single-subject `decideAll`, `decideAllParties` with the main artist only, and with every
 * credited party; the least of a few rounds after a warm-up round.
 */
function printCoreCost(catalog: BenchCatalog): void {
  const states = new Map(catalog.states.map((doc) => [doc._id, statementsOf(doc)]));
  const lookup = (subject: Subject) => states.get(subjectKey(subject)) ?? [];
  const random = seededRandom(13);
  const at = new Date();
  const inputs = Array.from({ length: QUICK ? 2_000 : 20_000 }, () => {
    const t = Math.floor(random() * catalog.tracks);
    const mainArtistId = artistId(catalog.artistOf[t]!);
    const ids = (list: readonly number[] | undefined) => (list ?? []).map(artistId);
    return {
      main: statementsOfParties(partiesOf({ mainArtistId, featuredArtistIds: [], originalArtistIds: [] }), trackId(t), lookup),
      credited: statementsOfParties(
        partiesOf({ mainArtistId, featuredArtistIds: ids(catalog.featuredOf.get(t)), originalArtistIds: ids(catalog.originalsOf.get(t)) }),
        trackId(t),
        lookup,
      ),
    };
  });
  const cost = (decideTrack: (input: { main: PartyStatements[]; credited: PartyStatements[] }) => number): number => {
    let best = Infinity;
    for (let round = 0; round < 4; round++) {
      const before = process.cpuUsage();
      let decisions = 0;
      for (const input of inputs) decisions += decideTrack(input);
      const cpu = process.cpuUsage(before);
      // Round 0 warms the JIT up and is not counted.
      if (round > 0) best = Math.min(best, (cpu.user + cpu.system) / decisions);
    }
    return best;
  };
  const today = cost(({ main }) => decideAll(main[0]!.statements, at, DEFAULT_POLICY).length);
  const mainOnly = cost(({ main }) => decideAllParties(main, at, DEFAULT_POLICY).length);
  const credited = cost(({ credited }) => decideAllParties(credited, at, DEFAULT_POLICY).length);
  const withCredits = inputs.filter((i) => i.credited.length > 1);
  const meanParties = inputs.reduce((sum, i) => sum + i.credited.length, 0) / inputs.length;
  console.log(`${inputs.length} tracks drawn uniformly: ${pct(withCredits.length / inputs.length)} credit more than the main artist; ${meanParties.toFixed(2)} parties per track on average\n`);
  console.log('| core call | CPU µs per decision | vs today |');
  console.log('|---|---:|---:|');
  console.log(`| decideAll (today: main artist only) | ${today.toFixed(3)} | 1.00× |`);
  console.log(`| decideAllParties, main artist only | ${mainOnly.toFixed(3)} | ${(mainOnly / today).toFixed(2)}× |`);
  console.log(`| decideAllParties, every credited party | ${credited.toFixed(3)} | ${(credited / today).toFixed(2)}× |`);
}

// ∞: the percentile falls among requests still unanswered when the run ended.
function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : '∞';
}

// Other work on the machine skews every figure; the load average makes that visible.
function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' / ');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
