import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImportFile } from '../bench/generateImportFile.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, writeToken } from '../helpers/tokens.js';

// The importer through the API (no MONGODB_URI): `changeConsents` calls with an admin token, as an
// operator runs it against a deployed service.

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function importThroughApi(file: string, url: string, token: string): Promise<Run> {
  const { MONGODB_URI: _uri, MONGODB_DB: _db, ...env } = process.env;
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'consent:import', '--', file], { env: { ...env, NODE_ENV: 'test', CONSENT_URL: url, CONSENT_ADMIN_TOKEN: token }, cwd: process.cwd() }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? -1), stdout, stderr });
    });
  });
}

// Lines recorded, whether the server says written or replayed (`replayed` in the payload) or not.
const handled = (stdout: string) => ['written', 'replayed', 'recorded'].reduce((sum, label) => sum + (new RegExp(`^  ${label} `, 'm').test(stdout) ? figure(stdout, label) : 0), 0);

function figure(stdout: string, label: string): number {
  const match = new RegExp(`^  ${label} +([\\d,]+)`, 'm').exec(stdout);
  if (match === null) throw new Error(`no "${label}" in the summary:\n${stdout}`);
  return Number(match[1]!.replaceAll(',', ''));
}

describe('npm run consent:import, through changeConsents', () => {
  let subgraph: TestSubgraph;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    dir = await mkdtemp(join(tmpdir(), 'consent-import-api-'));
    file = join(dir, 'generated.ndjson');
    await generateImportFile(file, { lines: 40, seed: 5, until: new Date(Date.now() - 3600_000) });
  });
  afterAll(async () => {
    await subgraph.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a token without consent:admin and writes nothing', async () => {
    const run = await importThroughApi(file, subgraph.url, await writeToken(undefined, ['ar-0000000']));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/consent:import failed: changeConsents failed: .*\(FORBIDDEN\)/);
    expect(await subgraph.store.collections.events.countDocuments({})).toBe(0);
  });

  it("records every line as the token's subject with the original actor and time in source, and a re-run writes nothing new", async () => {
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((text) => JSON.parse(text) as Record<string, any>);
    const token = await adminToken(undefined, 'importer');

    const first = await importThroughApi(file, subgraph.url, token);
    expect(first.code, first.stderr).toBe(0);
    expect(figure(first.stdout, 'lines read')).toBe(40);
    expect(handled(first.stdout)).toBe(40);
    expect(await subgraph.store.collections.events.countDocuments({})).toBe(40);
    const events = await subgraph.store.collections.events.find({}).toArray();
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set(['importer']));
    const sources = events.filter((e) => e.kind === 'SET').map((e) => e.source).sort();
    const expected = lines.filter((l) => l.set).map((l) => `import: chosen by ${l.actor} at ${new Date(l.at).toISOString()}${l.set.source ? `; source: ${l.set.source}` : ''}`).sort();
    expect(sources).toEqual(expected);

    const again = await importThroughApi(file, subgraph.url, token);
    expect(again.code, again.stderr).toBe(0);
    expect(handled(again.stdout)).toBe(40);
    // Only a payload with `replayed` lets the summary tell replays apart; the ledger says it either way.
    if (/^  replayed /m.test(again.stdout)) expect(figure(again.stdout, 'replayed')).toBe(40);
    expect(await subgraph.store.collections.events.countDocuments({})).toBe(40);
  });

  it('reports a line the server refuses by its index and sends the rest of its batch again', async () => {
    const reused = join(dir, 'key-reused.ndjson');
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const set = (artistId: string, choice: string, idempotencyKey?: string) => ({ subject: { artistId }, purpose: 'AI_TRAINING', choice, termsVersion: 'tos-1', ...(idempotencyKey ? { idempotencyKey } : {}) });
    await writeFile(
      reused,
      [
        { set: set('ix-1', 'DENY', 'k-1'), actor: 'artist:ix-1', at: at(30) },
        { set: set('ix-2', 'DENY'), actor: 'artist:ix-2', at: at(20) },
        { set: set('ix-3', 'ALLOW', 'k-1'), actor: 'artist:ix-3', at: at(10) },
        { set: set('ix-4', 'DENY'), actor: 'artist:ix-4', at: at(5) },
      ].map((line) => JSON.stringify(line)).join('\n'),
    );
    const token = await adminToken(undefined, 'importer-2');
    const run = await importThroughApi(reused, subgraph.url, token);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/line 3: refused: .*idempotencyKey "k-1" is also the key of changes\[0\].*\(BAD_USER_INPUT\)/);
    expect(handled(run.stdout)).toBe(3);
    expect(figure(run.stdout, 'skipped \\(bad\\)')).toBe(1);
    const artists = await subgraph.store.collections.events.distinct('artistId', { actor: 'importer-2' });
    expect(artists.sort()).toEqual(['ix-1', 'ix-2', 'ix-4']);
  });
});
