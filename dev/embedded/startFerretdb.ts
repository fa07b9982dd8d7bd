import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, createConnection } from 'node:net';
import { resolve } from 'node:path';
import { ensureFerretdbBinary } from './ferretdbBinary.js';
import { stopProcess } from './stopProcess.js';

/** Where the embedded database keeps its data: FERRETDB_DATA_DIR, default `.data/ferretdb` (resolved from the working directory). */
export function embeddedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.FERRETDB_DATA_DIR || '.data/ferretdb');
}

/** A FerretDB process listening on loopback. */
export interface RunningFerretdb {
  /** `mongodb://127.0.0.1:<port>/` */
  readonly uri: string;
  /** Prometheus metrics of FerretDB itself (`/debug/metrics`). */
  readonly metricsUrl: string;
  readonly process: ChildProcess;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * Starts FerretDB with its SQLite backend on free loopback ports (or on `port`, to restart a
 * database where its clients expect it), with data under `dataDir`. Telemetry is disabled: nothing
 * may call out.
 */
export async function startFerretdb(options: { dataDir: string; port?: number; log?: (line: string) => void }): Promise<RunningFerretdb> {
  const binary = await ensureFerretdbBinary(options.log);
  await mkdir(options.dataDir, { recursive: true });
  const [port, debugPort] = [options.port ?? (await freePort()), await freePort()];
  const child = spawn(
    binary,
    [
      '--handler=sqlite',
      // A 32 MiB page cache per connection instead of SQLite's 2 MB: the ledger's indexes outgrow
      // the default within a few hundred thousand events, and every insert then reads index pages back.
      `--sqlite-url=file:${options.dataDir}/?_pragma=cache_size(-32768)`,
      // One SQLite transaction per insert of up to 1000 documents instead of one per 100: each
      // transaction writes every page it touched to the WAL, and the events of one batch touch the
      // same index pages again and again (the import and the projector insert 1000 at a time;
      // BENCHMARKS.md has the page writes counted).
      '--test-batch-size=1000',
      `--state-dir=${options.dataDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      `--debug-addr=127.0.0.1:${debugPort}`,
      '--telemetry=disable',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  // If this process dies without stopping it, don't leave a database server running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await waitForPort(port, child, () => stderr);
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    metricsUrl: `http://127.0.0.1:${debugPort}/debug/metrics`,
    process: child,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopProcess(child, 5000);
    },
  };
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited with code ${child.exitCode}: ${stderr()}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`FerretDB did not listen on 127.0.0.1:${port} within 20 s: ${stderr()}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
