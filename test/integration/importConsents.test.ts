import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { generateImportFile } from '../bench/generateImportFile.js';
import { aFreshStore, dropStore, mongoUri } from '../helpers/database.js';

// The importer as a user runs it (`npm run consent:import -- FILE`), writing straight to a fresh
// database of the test server; what it wrote is read back from the ledger.

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runNpm(script: string, args: readonly string[], dbName: string): Promise<Run> {
  const env = { ...process.env, MONGODB_URI: mongoUri(), MONGODB_DB: dbName, NODE_ENV: 'test' };
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', script, '--', ...args], { env, cwd: process.cwd(), maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? -1), stdout, stderr });
    });
  });
}

const importFile = (file: string, store: ConsentStore, ...options: string[]) => runNpm('consent:import', [file, ...options], store.collections.events.dbName);

// The summary's figure for `label` ("written", "replayed", …).
function figure(stdout: string, label: string): number {
  const match = new RegExp(`^  ${label.replace(/[()]/g, '\\$&')} +([\\d,]+)`, 'm').exec(stdout);
  if (match === null) throw new Error(`no "${label}" in the summary:\n${stdout}`);
  return Number(match[1]!.replaceAll(',', ''));
}

const hourAgo = () => new Date(Date.now() - 3600_000);
const line = (fields: Record<string, unknown>) => JSON.stringify(fields);
const aSet = (artistId: string, minutesAgo: number, overrides: Record<string, unknown> = {}) =>
  line({
    set: { subject: { artistId }, purpose: 'VOICE_REPLICATION', choice: 'DENY', termsVersion: 'tos-2025-11', source: 'legacy-app', ...overrides },
    actor: `artist:${artistId}`,
    at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
  });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'consent-import-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('npm run consent:import, straight to the database', () => {
  let store: ConsentStore;
  beforeEach(async () => {
    store = await aFreshStore({ cache: false, timeoutMs: 60_000 });
  });
  afterEach(() => dropStore(store));

  it('imports a generated file, keeps the actor and original time as evidence, and a re-run writes nothing new', async () => {
    const file = join(dir, 'generated.ndjson');
    await generateImportFile(file, { lines: 60, seed: 11, until: hourAgo() });
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((text) => JSON.parse(text) as Record<string, any>);

    const first = await importFile(file, store);
    expect(first.code, first.stderr).toBe(0);
    expect(figure(first.stdout, 'lines read')).toBe(60);
    expect(figure(first.stdout, 'written')).toBe(60);
    expect(figure(first.stdout, 'replayed')).toBe(0);
    expect(figure(first.stdout, 'skipped (bad)')).toBe(0);
    expect(first.stdout).toMatch(/^  rate +[\d,]+ changes\/s$/m);
    expect(await store.collections.events.countDocuments({})).toBe(60);

    // Every line became one event, as the line's actor; a SET carries who chose and when in
    // `source`. The ledger's `at` is when it recorded the change, not the original time.
    const events = await store.collections.events.find({}).toArray();
    const expected = lines.map((l) =>
      l.set
        ? ['SET', l.set.subject.artistId, l.set.subject.trackId ?? null, l.set.purpose, l.set.choice, l.actor, `import: chosen by ${l.actor} at ${new Date(l.at).toISOString()}${l.set.source ? `; source: ${l.set.source}` : ''}`]
        : ['CLEAR', l.clear.subject.artistId, l.clear.subject.trackId ?? null, l.clear.purpose, null, l.actor, null],
    );
    const recorded = events.map((e) => [e.kind, e.artistId, e.trackId, e.purpose, e.choice, e.actor, e.source]);
    const order = (rows: unknown[][]) => rows.map((row) => JSON.stringify(row)).sort();
    expect(order(recorded)).toEqual(order(expected));
    expect(lines.some((l) => l.clear)).toBe(true);
    for (const event of events) expect(event.at.getTime()).toBeGreaterThan(Date.now() - 600_000);

    const again = await importFile(file, store);
    expect(again.code, again.stderr).toBe(0);
    expect(figure(again.stdout, 'written')).toBe(0);
    expect(figure(again.stdout, 'replayed')).toBe(60);
    expect(await store.collections.events.countDocuments({})).toBe(60);

    const verified = await runNpm('ledger:verify', [], store.collections.events.dbName);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^Ledger OK: verified 60 events/);
  });

  it('reports a bad line with its number and imports the others', async () => {
    const file = join(dir, 'bad-line.ndjson');
    await writeFile(file, [aSet('a-1', 50), aSet('a-2', 40), aSet('a-3', 30, { purpose: 'AI_TRAINNG' }), '', aSet('a-4', 20), '{"set": ', aSet('a-5', 10)].join('\n'));

    const run = await importFile(file, store);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('line 3: set: purpose must be a ConsentPurpose, but got: "AI_TRAINNG"');
    expect(run.stderr).toMatch(/line 6: the line is not JSON/);
    expect(figure(run.stdout, 'lines read')).toBe(7);
    expect(figure(run.stdout, 'written')).toBe(4);
    expect(figure(run.stdout, 'skipped (bad)')).toBe(2);
    expect((await store.collections.events.distinct('artistId')).sort()).toEqual(['a-1', 'a-2', 'a-4', 'a-5']);
  });

  it('with --strict, stops at the first bad line: the lines before it are written, nothing after it', async () => {
    const file = join(dir, 'strict.ndjson');
    await writeFile(file, [aSet('a-1', 50), aSet('a-2', 40), aSet('a-3', 30, { choice: 'MAYBE' }), aSet('a-4', 20), aSet('a-5', 10)].join('\n'));

    const run = await importFile(file, store, '--strict');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('line 3: set: choice must be ALLOW or DENY, but got: "MAYBE"');
    expect(run.stdout).toMatch(/^Stopped at bad line 3 \(--strict\)/);
    expect(figure(run.stdout, 'lines read')).toBe(3);
    expect(figure(run.stdout, 'written')).toBe(2);
    expect((await store.collections.events.distinct('artistId')).sort()).toEqual(['a-1', 'a-2']);
  });

  it('refuses a line that goes back in time for its subject and purpose (it would override a newer choice)', async () => {
    const file = join(dir, 'out-of-order.ndjson');
    await writeFile(file, [aSet('a-1', 10), aSet('a-1', 30, { choice: 'ALLOW' }), aSet('a-1', 20, { purpose: 'AI_TRAINING' })].join('\n'));

    const run = await importFile(file, store);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/line 2: at \S+ goes back in time: an earlier line changed the same subject and purpose at \S+/);
    expect(figure(run.stdout, 'written')).toBe(2);
    expect(await store.collections.events.countDocuments({ choice: 'ALLOW' })).toBe(0);
  });

  it("reports a line whose idempotency key was already used for a different change, and imports the rest of its batch", async () => {
    const file = join(dir, 'key-reused.ndjson');
    await writeFile(file, [aSet('a-1', 50, { idempotencyKey: 'k-1' }), aSet('a-2', 40), aSet('a-1', 30, { idempotencyKey: 'k-1', choice: 'ALLOW' }), aSet('a-3', 20)].join('\n'));

    const run = await importFile(file, store);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/line 3: refused: idempotencyKey "k-1" was already used for a different change/);
    expect(figure(run.stdout, 'written') + figure(run.stdout, 'replayed')).toBe(3);
    expect(figure(run.stdout, 'skipped (bad)')).toBe(1);
    expect((await store.collections.events.distinct('artistId')).sort()).toEqual(['a-1', 'a-2', 'a-3']);
    expect(await store.collections.events.countDocuments({})).toBe(3);
  });

  it('stops after the batch being written on SIGINT, says so, and a re-run imports the rest without writing anything twice', async () => {
    const file = join(dir, 'interrupted.ndjson');
    await generateImportFile(file, { lines: 120, seed: 13, until: hourAgo() });
    const dbName = store.collections.events.dbName;
    // Run by node itself (not npm) so the signal reaches the importer, as Ctrl-C does.
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/importConsents.ts', file, '--batch-size', '5'], {
      env: { ...process.env, MONGODB_URI: mongoUri(), MONGODB_DB: dbName, NODE_ENV: 'test' },
      cwd: process.cwd(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while ((await store.collections.events.countDocuments({})) < 10) await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('Stopping after the batch being written');
    expect(stdout).toMatch(/^Interrupted \(a re-run replays what was written and goes on\) importing/);
    const written = figure(stdout, 'written');
    expect(written).toBeGreaterThanOrEqual(10);
    expect(written).toBeLessThan(120);
    expect(await store.collections.events.countDocuments({})).toBe(written);

    const rest = await importFile(file, store);
    expect(rest.code, rest.stderr).toBe(0);
    expect(figure(rest.stdout, 'replayed')).toBe(written);
    expect(figure(rest.stdout, 'written')).toBe(120 - written);
    expect(await store.collections.events.countDocuments({})).toBe(120);
  }, 300_000);

  it('stops with exit code 2 and a message when the file cannot be read', async () => {
    const run = await importFile(join(dir, 'missing.ndjson'), store);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/consent:import failed: .*ENOENT/);
  });
});
