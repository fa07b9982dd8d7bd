import { spawn, fork } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, parse } from 'graphql';
import { pino } from 'pino';
import { createTokenVerifier } from '../../src/auth/createTokenVerifier.js';
import { PURPOSES } from '../../src/consent/purposes.js';
import { createServer } from '../../src/server.js';
import type { AppendItem, ConsentStore } from '../../src/store/ConsentStore.js';
import { readProjectionVersion } from '../../src/store/projectionVersion.js';
import { aSetChange } from '../helpers/changes.js';
import { adminToken, readToken, writeToken } from '../helpers/tokens.js';
import type { LoadResult } from './loadGenerator.js';
import type { ReplicaRequest } from './replica.js';
import { cpuWindow, type CpuSplit } from './processCpu.js';
import { runChild, runLoad } from './runLoad.js';
import { artistId, trackId, type BenchCatalog } from './seedBenchData.js';
import type { ClosedWritesRequest, PacedWritesRequest, PacedWritesResult, Writer, WriteStats } from './writeLoad.js';
import { setConsent } from './writeLoad.js';

// The write rows of `npm run bench` (issue 13): single setConsent calls, bulk changes, reads while
// writes land on a second replica, and the import. They use only the GraphQL API and the public
// methods of ConsentStore (appendMany, projectionSettled) and the projection's version, so they measure any write
// path behind those.

/** What the write rows need from the bench. */
export interface WriteRowsOptions {
  readonly uri: string;
  readonly dbName: string;
  /** The HS256 secret the bench's servers verify tokens with. */
  readonly secret: string;
  /** The bench's store (projection cache on, as deployed): replica A's, and the one appendMany is timed on. */
  readonly store: ConsentStore;
  readonly catalog: BenchCatalog;
  /** 10-track `_entities` request bodies: the read load of the mixed row. */
  readonly readBodies: readonly string[];
  /** Seconds of load per row (the bulk rows send at least one call however long it takes). */
  readonly seconds: number;
  /** Concurrent writers of the single-call and mixed rows, each on its own artist. */
  readonly writers: number;
  /** Changes per second the mixed row's writers aim for. */
  readonly rate: number;
  /** Pairs of windows in the mixed row, read-only then with writes. */
  readonly mixedPairs: number;
  /** Changes per bulk call. */
  readonly batch: number;
  /** Lines of the import row's file; null leaves the row out. */
  readonly importLines: number | null;
  /** The embedded database's process (its CPU is reported for the mixed row); null for MONGODB_URI. */
  readonly dbPid: number | null;
  /** Resolves once replica A's store has no command in flight. */
  readonly idle: () => Promise<void>;
  readonly log: (line: string) => void;
}

/** A timed run of bulk calls (or of one import), in changes. */
interface BulkRun {
  readonly calls: number;
  readonly changes: number;
  readonly seconds: number;
  /** Until projectionSettled() resolved after the last call (appendMany only). */
  readonly settledSeconds: number | null;
  readonly callMs: readonly number[];
  readonly errors: number;
  readonly firstError: string | null;
}

/** One pair of the mixed row: the read load alone, then again while replica B takes paced writes. */
interface MixedPair {
  readonly readOnly: LoadResult;
  readonly mixed: LoadResult;
  readonly paced: PacedWritesResult;
  /** Events appended to the ledger (the highest log end announced) from the writers' start until they all had their replies or gave up, the probe's included. */
  readonly ledger: number;
  /** CPU seconds of the database, replica A (this process, with the bench's own work), replica B and the rest of the machine (the load generators), in each run. */
  readonly cpu: { readonly readOnly: CpuSplit; readonly mixed: CpuSplit };
}

/**
 * The mixed row: pairs of windows, read-only then with writes, one after the other. On two shared
 * cores the read-only rate of the same code moves by 2.5× between windows a minute apart (813 to
 * 2,121 req/s measured here), more than the effect of the writes; alternating the two kinds of
 * window spreads that drift over both, and the row's ratio is over all windows of each kind.
 */
interface MixedRun {
  readonly pairs: readonly MixedPair[];
}

/** The mixed row over all its pairs: request-weighted rates, the worst p99, and totals. */
function mixedSummary(run: MixedRun) {
  const sum = (f: (pair: MixedPair) => number) => run.pairs.reduce((total, pair) => total + f(pair), 0);
  const readOnlyRate = sum((p) => p.readOnly.requests) / sum((p) => p.readOnly.durationSeconds);
  const mixedRate = sum((p) => p.mixed.requests) / sum((p) => p.mixed.durationSeconds);
  const ratios = run.pairs.map((p) => (p.readOnly.requestsPerSecond > 0 ? p.mixed.requestsPerSecond / p.readOnly.requestsPerSecond : NaN));
  return {
    readOnlyRate,
    mixedRate,
    ratio: readOnlyRate > 0 ? mixedRate / readOnlyRate : NaN,
    ratios,
    p99: Math.max(...run.pairs.map((p) => p.mixed.p99)),
    readOnlyP99: Math.max(...run.pairs.map((p) => p.readOnly.p99)),
    failures: sum((p) => p.mixed.failures),
    landedPerSecond: sum((p) => p.paced.landedInWindow) / sum((p) => p.paced.windowSeconds),
    writeErrors: sum((p) => p.paced.writes.errors),
    stale: sum((p) => p.paced.probe.stale),
    probeWrites: sum((p) => p.paced.probe.writes),
  };
}

const READ_CONNECTIONS = 50;
const WARM_UP_SECONDS = 3;
// A 10-track read answered from replica A's cache takes a few ms alone; from the database, seconds.
const READY_MS = 100;
const READY_WAIT_S = 180;
const QUIET_S = 5;
const QUIET_MAX_S = 600;
// The row's artists and tracks, apart from one another and from the read rows' statements.
const SINGLE_ARTISTS = 1000;
const PACED_ARTISTS = 5000;
const PROBE_ARTIST = 9000;
const BULK_TRACKS = 100_000;
const IMPORT_TRACKS = 150_000;

const CHANGE_CONSENTS = /* GraphQL */ `
  mutation BenchChangeConsents($changes: [ConsentChangeInput!]!) {
    changeConsents(changes: $changes) { revision }
  }`;

/** Runs the write rows against a fresh replica A (in this process, on `options.store`) and a replica B (its own process), and prints them. */
export async function runWriteRows(options: WriteRowsOptions): Promise<void> {
  const { log, seconds } = options;
  const logger = pino({ level: 'silent' });
  const serverA = await createServer({ store: options.store, verifier: createTokenVerifier({ kind: 'secret', secret: options.secret }), logger });
  const urlA = await serverA.listen(0, '127.0.0.1');
  const replicaB = await startReplica({ uri: options.uri, dbName: options.dbName, secret: options.secret });
  try {
    log(`\n## Write rows: ${seconds} s each (BENCH_WRITE_SECONDS), ${options.writers} writers, ${options.rate} changes/s paced, ${options.batch} changes per bulk call`);
    log(`replica A: in this process, on the bench's store; replica B: \`startService\` in its own process, same database\n`);
    const read = await readToken(options.secret, 'bench-reader');
    const writers = (first: number, role: string) =>
      Promise.all(Array.from({ length: options.writers }, (_, w) => writerOf(options, first + w, role)));

    // Replica B's first write starts the ledger's commit log and loads its caches: done once here,
    // as a deployed replica would have, so the rows measure writes, not a replica's start.
    const warm = await writerOf(options, PROBE_ARTIST, 'warm-up');
    const warmStarted = performance.now();
    await setConsent(replicaB.url, warm.token, { artistId: warm.artistId }, 0);
    log(`replica B's first write (its start) took ${((performance.now() - warmStarted) / 1000).toFixed(1)} s`);

    // The mixed row first, while replica A's cache is at the seeded projection as the read rows had it.
    const mixed = await mixedRow(options, urlA, replicaB, read, await writers(PACED_ARTISTS, 'paced'), await writerOf(options, PROBE_ARTIST, 'probe'));
    printMixedLine(mixed, options.rate, log);
    await ledgerQuiet(options);

    const singleWriters = await writers(SINGLE_ARTISTS, 'single');
    const ledgerBefore = await ledgerEnd(options.store);
    const cacheBefore = { ...options.store.cache.counts };
    const reasonsBefore = new Map(options.store.cache.loadReasons);
    const single = await runChild<WriteStats>('./writeLoad.ts', { kind: 'closed', url: urlA, writers: singleWriters, seconds } satisfies ClosedWritesRequest);
    const singleLedger = (await ledgerEnd(options.store)) - ledgerBefore;
    log(
      `single setConsent       ${options.writers} writers  ${String(single.changes).padStart(6)} changes ${single.changesPerSecond.toFixed(1).padStart(8)} changes/s  p50 ${ms(single.p50)} p99 ${ms(single.p99)} max ${ms(single.max)} ms  ${single.errors} errors; ` +
        `${singleLedger} events in the ledger by the end (${(singleLedger / single.seconds).toFixed(1)}/s)`,
    );
    const cacheAfter = options.store.cache.counts;
    log(
      `single setConsent: replica A's cache during the row: ${cacheAfter.refreshes - cacheBefore.refreshes} loads (the last took ${options.store.cache.lastRefresh?.seconds.toFixed(1) ?? '?'} s), ` +
        `${cacheAfter.follows - cacheBefore.follows} follows, ${cacheAfter.failedRefreshes - cacheBefore.failedRefreshes} failed loads` +
        [...options.store.cache.loadReasons].map(([reason, n]) => [reason, n - (reasonsBefore.get(reason) ?? 0)] as const).filter(([, n]) => n > 0).map(([reason, n]) => `; asked ${n}× (${reason})`).join(''),
    );
    await ledgerQuiet(options);
    await options.idle();
    const available = await supportsChangeConsents(urlA, read);
    const bulkApi = available ? await bulkThroughApi(options, urlA, await adminToken(options.secret, 'bench-bulk')) : null;
    if (bulkApi !== null) printBulkLine('changeConsents', bulkApi, log);
    await options.idle();
    const bulkStore = await bulkThroughStore(options, bulkApi === null ? 0 : bulkApi.calls);
    printBulkLine('store.appendMany', bulkStore, log);

    const imported = options.importLines === null ? null : await importRow(options);
    if (typeof imported === 'object' && imported !== null) printBulkLine('consent:import', imported, log);

    log('\n### Writes\n');
    log('| row | how | writers | seconds | changes | changes/s | p50 ms | p99 ms | max ms | errors | target |');
    log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    log(
      `| single setConsent | HTTP to replica A, each writer on its own artist awaiting each reply | ${options.writers} | ${single.seconds.toFixed(1)} | ${single.changes} | ${single.changesPerSecond.toFixed(1)} | ` +
        `${ms(single.p50)} | ${ms(single.p99)} | ${ms(single.max)} | ${single.errors} | ≥ 200 changes/s, p99 ≤ 1000 ms |`,
    );
    log(bulkApi === null ? `| changeConsents × ${options.batch} | not available (the schema has no Mutation.changeConsents) | | | | | | | | | ≥ 2000 changes/s |` : bulkTableLine(`changeConsents × ${options.batch}`, 'HTTP to replica A, admin token, one call at a time; per-call latency', bulkApi));
    log(bulkTableLine(`store.appendMany × ${options.batch}`, 'ConsentStore in this process, one call at a time; per-call latency', bulkStore));
    if (options.importLines !== null) {
      log(typeof imported === 'string' ? `| import | ${imported} | | | | | | | | | reported |` : bulkTableLine(`import, ${options.importLines} lines`, '`npm run consent:import`, one run; changes counted in the ledger', imported!));
    }
    log(`\nsingle setConsent: ${singleLedger} events appended to the ledger (the highest log end announced) from the first call until every writer had its reply or gave up, ${(singleLedger / single.seconds).toFixed(1)}/s`);
    if (single.firstError !== null) log(`single setConsent, first error: ${single.firstError}`);
    for (const [name, run] of [['changeConsents', bulkApi], ['store.appendMany', bulkStore], ['import', typeof imported === 'object' ? imported : null]] as const) {
      if (run?.firstError) log(`${name}, first error: ${run.firstError}`);
    }
    if (bulkStore.settledSeconds !== null) {
      log(`\nstore.appendMany: ${bulkStore.changes} changes acknowledged in ${bulkStore.seconds.toFixed(1)} s; projectionSettled() after ${bulkStore.settledSeconds.toFixed(1)} s (${(bulkStore.changes / bulkStore.settledSeconds).toFixed(1)} changes/s settled)`);
    }
    printMixedTable(mixed, options, log);
  } finally {
    await replicaB.stop();
    await serverA.stop();
  }
}

/** A writer on artist `a` of the catalog, with one of its tracks and a write token for that artist alone. */
async function writerOf(options: WriteRowsOptions, a: number, role: string): Promise<Writer> {
  const track = options.catalog.artistOf.indexOf(a);
  if (track < 0) throw new Error(`bench artist ${a} owns no track: the catalog is smaller than the write rows assume`);
  return { artistId: artistId(a), trackId: trackId(track), token: await writeToken(options.secret, [artistId(a)], `bench-${role}-${a}`) };
}

/** 10-track reads on replica A alone, then again while replica B takes paced writes and the probe reads its writes back on A. */
async function mixedRow(options: WriteRowsOptions, urlA: string, replicaB: { url: string; pid: number | null }, read: string, writers: Writer[], probe: Writer): Promise<MixedRun> {
  const reads = { url: urlA, token: read, bodies: [...options.readBodies], connections: READ_CONNECTIONS };
  // Replica B's start-up (its repair sweep) changes the projection's version, and replica A
  // reloads its cache: the read-only run starts once A answers from memory again.
  const ready = await untilFast(urlA, read, options.readBodies[0]!);
  options.log(`replica A answered a 10-track read alone in ${ready.ms.toFixed(1)} ms after waiting ${ready.waited.toFixed(1)} s${ready.ms > READY_MS ? ` (still slower than ${READY_MS} ms after ${READY_WAIT_S} s: measured anyway)` : ''}`);
  await runLoad({ ...reads, durationSeconds: WARM_UP_SECONDS });
  // Paced writes on replica B, the probe reading its writes back on A, until stopped.
  const startWrites = () => {
    let stop = () => {};
    const request: PacedWritesRequest = { kind: 'paced', url: replicaB.url, writers, rate: options.rate, probe: { writer: probe, readUrl: urlA, readToken: read } };
    const result = runChild<PacedWritesResult>('./writeLoad.ts', request, (send) => (stop = () => send({ kind: 'stop' })));
    // Caught here so a failing writer can't crash the run while the reads go on; awaited by the caller.
    result.catch(() => {});
    return { result, stop: () => stop() };
  };
  // The write path warms up too (replica B has taken one write so far): paced writes alone, then
  // until they have all landed.
  const warmUp = startWrites();
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_SECONDS * 1000));
  warmUp.stop();
  const warm = await warmUp.result;
  options.log(`mixed: write warm-up on replica B, ${WARM_UP_SECONDS} s: ${warm.landedInWindow} changes landed, ${warm.writes.errors} errors`);
  await ledgerQuiet(options);
  const pairs: MixedPair[] = [];
  for (let i = 0; i < options.mixedPairs; i++) {
    const pair = await mixedPair(options, reads, replicaB.pid, startWrites);
    pairs.push(pair);
    printMixedPair(i + 1, pair, options.rate, options.log);
    // Calls a writer gave up on may still be queued in replica B.
    if (i + 1 < options.mixedPairs) await ledgerQuiet(options);
  }
  return { pairs };
}

async function mixedPair(
  options: WriteRowsOptions,
  reads: { url: string; token: string; bodies: string[]; connections: number },
  pidB: number | null,
  startWrites: () => { result: Promise<PacedWritesResult>; stop: () => void },
): Promise<MixedPair> {
  const pids = { database: options.dbPid, 'replica A': null, 'replica B': pidB };
  await options.idle();
  const readOnlyCpu = await cpuWindow(pids);
  const readOnly = await runLoad({ ...reads, durationSeconds: options.seconds });
  const cpuReadOnly = await readOnlyCpu();
  await options.idle();
  const ledgerBefore = await ledgerEnd(options.store);
  const writing = startWrites();
  // The reads start once the writes are under way.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const mixedCpu = await cpuWindow(pids);
  const mixed = await runLoad({ ...reads, durationSeconds: options.seconds });
  const cpuMixed = await mixedCpu();
  writing.stop();
  const paced = await writing.result;
  const ledger = (await ledgerEnd(options.store)) - ledgerBefore;
  await options.idle();
  return { readOnly, mixed, paced, ledger, cpu: { readOnly: cpuReadOnly, mixed: cpuMixed } };
}

/**
 * The ledger's end as its writers announced it: every acknowledged commit ends at or before it. One
 * small read, where `latestGseq` (a sort of consent_events) makes FerretDB decode the whole ledger:
 * seconds of its CPU per call, and its garbage collector still busy in the window after.
 */
async function ledgerEnd(store: ConsentStore): Promise<number> {
  return (await readProjectionVersion(store.collections))?.end ?? 0;
}

/**
 * Waits until the ledger stops growing (no new event for QUIET_S), at most QUIET_MAX_S: calls a
 * writer gave up on may still be queued in a server, and would slow the next row.
 */
async function ledgerQuiet(options: WriteRowsOptions): Promise<void> {
  const started = performance.now();
  let last = await ledgerEnd(options.store);
  let quietSince = performance.now();
  while (performance.now() - quietSince < QUIET_S * 1000 && performance.now() - started < QUIET_MAX_S * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await ledgerEnd(options.store);
    if (now !== last) [last, quietSince] = [now, performance.now()];
  }
  const waited = (performance.now() - started) / 1000;
  if (waited > QUIET_S + 2) options.log(`(waited ${waited.toFixed(0)} s for the servers to finish calls given up on${waited >= QUIET_MAX_S ? ', and stopped waiting' : ''})`);
}

/** Sends one read at a time until one is answered within READY_MS, for at most READY_WAIT_S; the last latency and the wait. */
async function untilFast(url: string, token: string, body: string): Promise<{ ms: number; waited: number }> {
  const started = performance.now();
  for (;;) {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    const text = await res.text();
    if (res.status !== 200 || text.includes('"errors"')) throw new Error(`replica A answered a read wrongly: ${text.slice(0, 300)}`);
    const ms = performance.now() - t0;
    const waited = (performance.now() - started) / 1000;
    if (ms <= READY_MS || waited >= READY_WAIT_S) return { ms, waited };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Whether the subgraph's schema (`_service { sdl }`, always served) has Mutation.changeConsents. */
async function supportsChangeConsents(url: string, token: string): Promise<boolean> {
  const res = await post(url, token, { query: '{ _service { sdl } }' });
  const sdl = res.data?._service?.sdl;
  if (typeof sdl !== 'string') throw new Error(`_service { sdl } answered wrongly: ${JSON.stringify(res).slice(0, 300)}`);
  return parse(sdl).definitions.some(
    (d) => (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) && d.name.value === 'Mutation' && (d.fields ?? []).some((f) => f.name.value === 'changeConsents'),
  );
}

/** The bulk rows' `c`-th call: `batch` track statements, each on its own track. */
function bulkChanges(options: WriteRowsOptions, first: number, c: number) {
  return Array.from({ length: options.batch }, (_, j) => {
    const t = (first + c * options.batch + j) % options.catalog.tracks;
    return {
      subject: { artistId: artistId(options.catalog.artistOf[t]!), trackId: trackId(t) },
      purpose: PURPOSES[(c + j) % PURPOSES.length]!,
      choice: (c + j) % 2 === 0 ? ('ALLOW' as const) : ('DENY' as const),
      termsVersion: 'bench-terms-1',
      source: 'bench-bulk',
    };
  });
}

/** Sends `call(c)` one after another for `seconds` (at least once) and times each. */
async function timedCalls(options: WriteRowsOptions, call: (c: number) => Promise<number>): Promise<BulkRun> {
  const callMs: number[] = [];
  let changes = 0;
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  for (let c = 0; c === 0 || performance.now() - started < options.seconds * 1000; c++) {
    const t0 = performance.now();
    try {
      changes += await call(c);
      callMs.push(performance.now() - t0);
    } catch (error) {
      errors++;
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  }
  return { calls: callMs.length + errors, changes, seconds: (performance.now() - started) / 1000, settledSeconds: null, callMs, errors, firstError };
}

async function bulkThroughApi(options: WriteRowsOptions, url: string, token: string): Promise<BulkRun> {
  return timedCalls(options, async (c) => {
    const res = await post(url, token, { query: CHANGE_CONSENTS, variables: { changes: bulkChanges(options, BULK_TRACKS, c).map((set) => ({ set })) } });
    const results = res.data?.changeConsents;
    if (res.errors !== undefined || !Array.isArray(results) || results.length !== options.batch) throw new Error(`changeConsents answered wrongly: ${JSON.stringify(res).slice(0, 300)}`);
    return results.length;
  });
}

// After the API row's calls, on other tracks, so no call repeats a change already made.
async function bulkThroughStore(options: WriteRowsOptions, after: number): Promise<BulkRun> {
  const started = performance.now();
  const run = await timedCalls(options, async (c) => {
    const now = new Date();
    const items: AppendItem[] = bulkChanges(options, BULK_TRACKS, after + c).map(({ subject, purpose, choice, termsVersion, source }) => ({
      change: aSetChange(subject.artistId, purpose, { trackId: subject.trackId, choice, termsVersion, source }),
      actor: 'bench-bulk',
      now,
    }));
    const results = await options.store.appendMany(items);
    if (results.length !== items.length || results.some((r) => r.replayed)) throw new Error(`appendMany returned ${results.length} results for ${items.length} items, or replays`);
    return results.length;
  });
  await options.store.projectionSettled();
  return { ...run, settledSeconds: (performance.now() - started) / 1000 };
}

/**
 * Imports `importLines` changes with `npm run consent:import` into the bench's database and
 * counts what landed in the ledger; a string says why the row could not run.
 */
async function importRow(options: WriteRowsOptions): Promise<BulkRun | string> {
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { scripts?: Record<string, string> };
  if (pkg.scripts?.['consent:import'] === undefined) return 'not available (no `npm run consent:import` in this build)';
  const lines = options.importLines!;
  const dir = await mkdtemp(join(tmpdir(), 'consent-bench-import-'));
  try {
    const file = join(dir, 'changes.ndjson');
    const at = Date.parse('2025-09-01T00:00:00Z');
    const changes = Array.from({ length: Math.ceil(lines / options.batch) }, (_, c) => bulkChanges(options, IMPORT_TRACKS, c)).flat().slice(0, lines);
    await writeFile(file, changes.map((set, i) => JSON.stringify(importLine(set, i, new Date(at + i * 1000)))).join('\n') + '\n');
    const before = await ledgerEnd(options.store);
    const started = performance.now();
    const { code, output } = await npm(['run', '--silent', 'consent:import', '--', file], { ...process.env, MONGODB_URI: options.uri, MONGODB_DB: options.dbName });
    const seconds = (performance.now() - started) / 1000;
    const landed = (await ledgerEnd(options.store)) - before;
    const failed = code !== 0 ? `exit code ${code}: ${output.trim().split('\n').slice(-3).join(' / ')}` : null;
    return { calls: 1, changes: landed, seconds, settledSeconds: null, callMs: [seconds * 1000], errors: failed === null ? 0 : 1, firstError: failed };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// One line of the import file: the change as `changeConsents` takes it, with who made the choice
// and when (DESIGN §8), and an idempotency key so a re-run writes nothing twice.
function importLine(set: ReturnType<typeof bulkChanges>[number], i: number, at: Date) {
  return { set: { ...set, source: 'bench-import', idempotencyKey: `bench-import-${i}` }, actor: 'bench-import', at: at.toISOString() };
}

function npm(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
    child.stderr.on('data', (chunk) => (output = (output + chunk).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Replica B: `replica.ts` in its own process; `stop` drains it and waits for it to exit. */
async function startReplica(request: ReplicaRequest): Promise<{ url: string; pid: number | null; stop: () => Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./replica.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], serialization: 'advanced' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { result?: string; error?: string }) => (message.result ? resolve(message.result) : reject(new Error(`replica B did not start: ${message.error}`))));
    child.once('exit', (code) => reject(new Error(`replica B exited with ${code} before it listened`)));
    child.send(request);
  });
  return {
    url,
    pid: child.pid ?? null,
    stop: async () => {
      if (child.exitCode === null) child.send({ kind: 'stop' });
      const timeout = setTimeout(() => child.kill(), 30_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

async function post(url: string, token: string, body: unknown): Promise<{ data?: any; errors?: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return (await response.json()) as { data?: any; errors?: unknown };
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function printBulkLine(name: string, run: BulkRun, log: (line: string) => void): void {
  const sorted = [...run.callMs].sort((a, b) => a - b);
  log(
    `${name.padEnd(24)} ${String(run.calls).padStart(3)} calls   ${String(run.changes).padStart(6)} changes ${(run.changes / run.seconds).toFixed(1).padStart(8)} changes/s  ` +
      `per call p50 ${ms(percentile(sorted, 0.5))} max ${ms(sorted[sorted.length - 1] ?? NaN)} ms  ${run.errors} errors`,
  );
}

function bulkTableLine(row: string, how: string, run: BulkRun): string {
  const sorted = [...run.callMs].sort((a, b) => a - b);
  return (
    `| ${row} | ${how} | 1 | ${run.seconds.toFixed(1)} | ${run.changes} | ${(run.changes / run.seconds).toFixed(1)} | ${ms(percentile(sorted, 0.5))} | ${ms(percentile(sorted, 0.99))} | ` +
    `${ms(sorted[sorted.length - 1] ?? NaN)} | ${run.errors} | ${row.startsWith('import') ? 'reported' : '≥ 2000 changes/s'} |`
  );
}

function printMixedLine(run: MixedRun, rate: number, log: (line: string) => void): void {
  const all = mixedSummary(run);
  log(
    `mixed, ${run.pairs.length} pairs: reads ${all.mixedRate.toFixed(1)} req/s with writes, ${all.readOnlyRate.toFixed(1)} read-only = ${all.ratio.toFixed(2)} ` +
      `(pairs ${all.ratios.map((r) => r.toFixed(2)).join(', ')}); worst p99 ${ms(all.p99)} ms (read-only ${ms(all.readOnlyP99)}), ${all.failures} failed; ` +
      `writes ${all.landedPerSecond.toFixed(1)} of ${rate} changes/s, ${all.writeErrors} errors; ${all.stale} stale of ${all.probeWrites} probe writes`,
  );
}

function printMixedPair(n: number, pair: MixedPair, rate: number, log: (line: string) => void): void {
  const { mixed, readOnly, paced, cpu } = pair;
  log(
    `mixed, pair ${n}: reads ${mixed.requestsPerSecond.toFixed(1)} req/s (read-only ${readOnly.requestsPerSecond.toFixed(1)}), p99 ${ms(mixed.p99)} ms (read-only ${ms(readOnly.p99)}), ` +
      `${mixed.failures} failed; writes ${(paced.landedInWindow / paced.windowSeconds).toFixed(1)} of ${rate} changes/s, ${paced.writes.errors} errors; ${paced.probe.stale} stale of ${paced.probe.writes} probe writes`,
  );
  const seconds = (s: number | null) => (s === null ? '?' : s.toFixed(1));
  const parts = Object.keys(cpu.mixed.seconds).map((name) => `${name} ${seconds(cpu.readOnly.seconds[name] ?? null)} → ${seconds(cpu.mixed.seconds[name] ?? null)}`);
  log(`mixed, pair ${n}: CPU seconds over each ${mixed.durationSeconds.toFixed(0)} s run, read-only → with writes: ${[...parts, `rest of the machine (load generators) ${seconds(cpu.readOnly.rest)} → ${seconds(cpu.mixed.rest)}`].join(', ')}`);
}

function printMixedTable(run: MixedRun, options: WriteRowsOptions, log: (line: string) => void): void {
  log(`\n### Reads while writes land on another replica\n`);
  log(
    `10-track \`_entities\` × 9 purposes at ${READ_CONNECTIONS} connections on replica A for ${options.seconds} s each, in ${run.pairs.length} pairs of windows (read-only, then with writes; BENCH_MIXED_PAIRS); ` +
      `requests still out at the end count with the time they had waited.\n`,
  );
  log('| reads on replica A | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | failed | unfinished |');
  log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  run.pairs.forEach(({ readOnly, mixed }, i) => {
    for (const [name, r] of [[`${i + 1}. read-only`, readOnly], [`${i + 1}. while replica B takes ${options.rate} changes/s`, mixed]] as const) {
      log(`| ${name} | ${r.requests} | ${r.requestsPerSecond.toFixed(1)} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.failures} | ${r.unfinished} |`);
    }
  });
  const all = mixedSummary(run);
  log('');
  log(
    `reads with writes / read-only, over all windows: ${Number.isFinite(all.ratio) ? all.ratio.toFixed(2) : '—'} (target ≥ 0.70; pairs ${all.ratios.map((r) => r.toFixed(2)).join(', ')}); ` +
      `worst read p99 ${ms(all.p99)} ms (target ≤ 250); ${all.failures} failed (target 0); ${all.stale} stale (target 0)`,
  );
  run.pairs.forEach((pair, i) => printPairWrites(i + 1, pair, run, options, log));
}

function printPairWrites(n: number, pair: MixedPair, run: MixedRun, options: WriteRowsOptions, log: (line: string) => void): void {
  const { paced } = pair;
  const prefix = run.pairs.length > 1 ? `pair ${n}: ` : '';
  const w = paced.writes;
  const p = paced.probe;
  log(
    `${prefix}writes on replica B (${options.writers} writers, paced): ${paced.landedInWindow} changes landed in the ${paced.windowSeconds.toFixed(1)} s of the run = ` +
      `${(paced.landedInWindow / paced.windowSeconds).toFixed(1)} changes/s of ${options.rate} asked (${w.changes} in all, the last answered ${(w.seconds - paced.windowSeconds).toFixed(1)} s after the stop); ` +
      `p50 ${ms(w.p50)} p99 ${ms(w.p99)} max ${ms(w.max)} ms; ${w.errors} errors; ${paced.skipped} dropped while every writer waited${w.firstError ? `; first error: ${w.firstError}` : ''}`,
  );
  log(`${prefix}ledger: ${pair.ledger} events appended from the writers' start until every call had its reply or was given up (${w.seconds.toFixed(1)} s), the probe's included`);
  log(
    `${prefix}read-your-write across replicas: ${p.writes} probe writes on B, each read back at once on A: ${p.stale} stale (target 0), ` +
      `${p.writeErrors} write errors, ${p.readErrors} read errors${p.firstError ? `; first error: ${p.firstError}` : ''}`,
  );
}

// ∞ or —: no call answered.
function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : Number.isNaN(value) ? '—' : '∞';
}
