import { execFile } from 'node:child_process';
import { access, chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The FerretDB release the embedded database and the tests use. */
export const FERRETDB_VERSION = 'v1.24.2';

/**
 * The one change made to FerretDB's source before it is built. Its SQLite backend creates the
 * unique `_id` index on `_ferretdb_sjson->"_id"` but looks `_id` up as `_ferretdb_sjson->'$._id'`,
 * which SQLite does not match to the index: every `_id` lookup, update and delete scanned the
 * table, parsing each document's JSON (a `deleteOne` by `_id` 170–210 ms on 25,000 small documents;
 * `EXPLAIN QUERY PLAN` says SCAN). Writing the lookup as the index is written makes it an index
 * search (SEARCH … USING INDEX) and changes nothing else: both forms extract the same value, and
 * the unique index already compares `_id`s that way. (The same class of bug on its PostgreSQL
 * backend: FerretDB/FerretDB#4646.) Part of the cache path, so a binary built without it is rebuilt.
 */
export const FERRETDB_PATCH = {
  name: 'id-index',
  file: 'internal/backends/sqlite/metadata/metadata.go',
  from: `IDColumn = DefaultColumn + "->'$._id'"`,
  to: 'IDColumn = DefaultColumn + `->"_id"`',
} as const;

/** Where the built binary is cached: `$FERRETDB_BIN`, else `$XDG_CACHE_HOME` or `~/.cache`. */
export function ferretdbBinaryPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FERRETDB_BIN) return env.FERRETDB_BIN;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'consent-subgraph', `ferretdb-${FERRETDB_VERSION}-${FERRETDB_PATCH.name}`, 'ferretdb');
}

/**
 * Returns the path of a FerretDB binary, building it from the Go module proxy on first use.
 * A plain `go install` of v1.24.2 builds a binary that panics at start (its module lacks the
 * generated build/version/version.txt), so the module source is copied, the file written, and
 * the binary built from that copy, with FERRETDB_PATCH applied. Takes a few minutes the first time; cached afterwards.
 */
export async function ensureFerretdbBinary(log: (line: string) => void = () => {}): Promise<string> {
  const binary = ferretdbBinaryPath();
  if ((await exists(binary)) && (await runs(binary))) return binary;
  log(`Building FerretDB ${FERRETDB_VERSION} into ${binary} (first run only; a few minutes)…`);
  const { stdout } = await run('go', ['mod', 'download', '-json', `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!moduleDir) throw new Error(`go mod download printed no module directory: ${stdout.slice(0, 200)}`);
  const work = await mkdtemp(join(tmpdir(), 'ferretdb-src-'));
  try {
    await cp(moduleDir, work, { recursive: true });
    await run('chmod', ['-R', 'u+w', work]);
    await writeFile(join(work, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    await patchSource(work);
    await mkdir(join(binary, '..'), { recursive: true });
    const partial = `${binary}.partial-${process.pid}`;
    await run('go', ['build', '-trimpath', '-o', partial, './cmd/ferretdb'], {
      cwd: work,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      maxBuffer: 16 * 1024 * 1024,
    });
    await chmod(partial, 0o755);
    // Rename is atomic, so a concurrent first run never executes a half-written binary.
    await run('mv', ['-f', partial, binary]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  log(`Built FerretDB ${FERRETDB_VERSION}.`);
  return binary;
}

// Applies FERRETDB_PATCH to the copied source; a source without the line to change is an error
// (a different FerretDB: its `_id` lookups need checking again).
async function patchSource(work: string): Promise<void> {
  const path = join(work, FERRETDB_PATCH.file);
  const source = await readFile(path, 'utf8');
  if (source.split(FERRETDB_PATCH.from).length !== 2) throw new Error(`FerretDB source: expected one \`${FERRETDB_PATCH.from}\` in ${FERRETDB_PATCH.file}`);
  await writeFile(path, source.replace(FERRETDB_PATCH.from, FERRETDB_PATCH.to));
}

// A binary from a plain `go install` exists but panics at start; treat it as missing.
async function runs(binary: string): Promise<boolean> {
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 10000 });
    return stdout.includes(FERRETDB_VERSION);
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

// `npx tsx dev/embedded/ferretdbBinary.ts` builds the binary ahead of time (CI does this).
if (import.meta.url === `file://${process.argv[1]}`) {
  ensureFerretdbBinary((line) => console.log(line)).then((path) => console.log(path));
}
