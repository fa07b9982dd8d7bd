import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopProcess } from '../../dev/embedded/stopProcess.js';
import { postGraphQL } from '../helpers/subgraph.js';

// `npm run supergraph` as a developer runs it (dev/supergraph.ts under tsx), on its own data dir.

const TRACK = '{ track(id: "track-aurora-2") { title artist { name } consent { decision(purpose: AI_TRAINING) { allowed basis scope } } } }';

describe('npm run supergraph', () => {
  let child: ChildProcess;
  let dataDir: string;
  let output = '';
  let gatewayUrl: string;
  let tokens: { read: string; write: string; admin: string };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'consent-supergraph-'));
    child = spawn(process.execPath, ['--import', 'tsx', 'dev/supergraph.ts'], {
      env: { ...process.env, FERRETDB_DATA_DIR: dataDir, MONGODB_URI: '', LOG_LEVEL: 'warn', NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 90_000;
    while (!/admin \(support\): +\S+/.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm run supergraph did not come up:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    gatewayUrl = /Hive Gateway ready at (\S+)/.exec(output)![1]!;
    const token = (role: string) => new RegExp(`${role} +\\([^)]*\\): +(\\S+)`).exec(output)![1]!;
    tokens = { read: token('read'), write: token('write'), admin: token('admin') };
  }, 120_000);

  afterAll(async () => {
    // A graceful stop lets it stop its own children (the subgraph and FerretDB) too.
    await stopProcess(child, 20_000);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a loopback gateway URL and read, write and admin tokens', () => {
    expect(gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(tokens.read.split('.')).toHaveLength(3);
    expect(tokens.write.split('.')).toHaveLength(3);
    expect(tokens.admin.split('.')).toHaveLength(3);
  });

  it('answers catalog and consent in one query through the gateway, from the seeded demo data', async () => {
    const res = await postGraphQL(gatewayUrl, TRACK, {}, tokens.read);

    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      track: { title: 'Undertow I', artist: { name: 'Aurora Vale' }, consent: { decision: { allowed: false, basis: 'EXPLICIT', scope: 'TRACK' } } },
    });
  });

  it('lets the printed write token change its artist, and refuses consent to an anonymous caller', async () => {
    const set = await postGraphQL(
      gatewayUrl,
      'mutation { setConsent(input: { subject: { artistId: "artist-aurora" }, purpose: ADVERTISING, choice: DENY, termsVersion: "t1" }) { decision { allowed } } }',
      {},
      tokens.write,
    );
    expect(set.errors).toBeUndefined();
    expect(set.data).toEqual({ setConsent: { decision: { allowed: false } } });

    const anonymous = await postGraphQL(gatewayUrl, TRACK);
    expect(anonymous.data.track.title).toBe('Undertow I');
    expect(anonymous.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
  });

  it('refuses requests that bypass the gateway: the subgraph it started requires the gateway signature', async () => {
    const subgraphUrl = /Consent subgraph ready at (\S+)/.exec(output)![1]!;
    const res = await postGraphQL(subgraphUrl, '{ _service { sdl } }', {}, tokens.admin);

    expect(res.status).toBe(401);
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
  });

  it('stops everything on SIGTERM and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');

    expect(await exited).toBe(0);
    expect(output).toContain('[consent] Database stopped. Bye.');
  }, 60_000);
});
