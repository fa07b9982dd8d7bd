import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { InvalidInputError } from '../src/consent/errors.js';
import { loadConfig, urlVar } from '../src/config.js';
import { openStore } from '../src/store/openStore.js';
import { subjectKey } from '../src/store/subjectKey.js';
import { createProgress, formatDuration, type Progress } from './import/createProgress.js';
import { parseImportLine, type ImportLine } from './import/parseImportLine.js';
import { graphqlSink, ImportFailedError, RejectedChangeError, storeSink, type ChangeSink } from './import/sinks.js';

/** Most changes one batch carries: `changeConsents` takes at most 1000. */
export const MAX_BATCH = 1000;

/** How an import runs. */
export interface ImportOptions {
  /** Stop at the first bad line (after writing the lines before it) instead of skipping it. @default false */
  readonly strict?: boolean;
  /** Changes per write. @default MAX_BATCH */
  readonly batchSize?: number;
  /** Bad lines reported in full; the rest are counted. @default 20 */
  readonly listBad?: number;
  /** Where progress and bad lines are shown. @default a progress display on stderr */
  readonly progress?: Progress;
  /** Stops the import after the batch being written (Ctrl-C). @default never */
  readonly signal?: AbortSignal;
}

/** A line that was not imported, and why. */
export interface BadLine {
  readonly line: number;
  readonly message: string;
}

/** What an import did. */
export interface ImportSummary {
  /** Lines of the file read (with --strict, up to the one it stopped at). */
  readonly read: number;
  /** Blank lines, passed over (not bad). */
  readonly blank: number;
  readonly written: number;
  /** Lines whose idempotency key had been used already: nothing written. */
  readonly replayed: number;
  /** Lines recorded through a path that doesn't say whether they were replays. */
  readonly unreported: number;
  readonly skipped: number;
  /** The first bad lines, up to `listBad`. */
  readonly badLines: readonly BadLine[];
  /** The line --strict stopped at, or null. */
  readonly stoppedAt: number | null;
  /** Whether `signal` stopped the import before the end of the file. */
  readonly interrupted: boolean;
  readonly elapsedMs: number;
}

/**
 * Imports an NDJSON file of consent changes through `sink`, in batches: each line is validated
 * (bad lines are reported with their number and skipped, or stop the run with `strict`), lines
 * for one subject and purpose must not go back in time, and every line has an idempotency key
 * (its own or one derived from its content), so a re-run writes nothing new.
 */
export async function importConsents(file: string, sink: ChangeSink, options: ImportOptions = {}): Promise<ImportSummary> {
  const batchSize = options.batchSize ?? MAX_BATCH;
  const listBad = options.listBad ?? 20;
  const progress = options.progress ?? createProgress(process.stderr);
  const started = performance.now();
  const importTime = new Date();
  const total = await countLines(file);
  // The total from the start: the first batch can take minutes (straight to the database, the
  // first write reads every idempotency key in the ledger once; on FerretDB a scan of it).
  progress.update({ done: 0, total });
  const counts = { read: 0, blank: 0, written: 0, replayed: 0, unreported: 0, skipped: 0 };
  const badLines: BadLine[] = [];
  let stoppedAt: number | null = null;
  // The original time of the last change per subject and purpose: a line earlier than it would
  // become the subject's latest change and override a newer choice.
  const latest = new Map<string, number>();

  const done = () => counts.blank + counts.written + counts.replayed + counts.unreported + counts.skipped;
  const bad = (line: number, message: string) => {
    counts.skipped++;
    if (badLines.length < listBad) {
      badLines.push({ line, message });
      progress.note(`line ${line}: ${message}`);
    }
    if (options.strict) stoppedAt = line;
  };
  const record = (results: ReadonlyArray<boolean | null>) => {
    for (const replayed of results) {
      if (replayed === null) counts.unreported++;
      else if (replayed) counts.replayed++;
      else counts.written++;
    }
  };
  // A batch refused for a change the server names (it wrote nothing) is sent again without that
  // line, which is reported as bad. Otherwise it is retried a line at a time: the lines before the
  // refused one are written (or replayed, if the batch got that far), and the refused one is bad.
  const flush = async (batch: Array<{ line: number; parsed: ImportLine }>) => {
    let rest = batch.slice();
    while (rest.length > 0) {
      try {
        record(await sink.write(rest.map((item) => item.parsed)));
        rest = [];
      } catch (error) {
        if (!(error instanceof RejectedChangeError)) throw error;
        if (error.index === null) break;
        const [refused] = rest.splice(error.index, 1);
        bad(refused!.line, `refused: ${error.message}`);
        // --strict: the lines before it are still written, none after it.
        if (stoppedAt !== null) rest = rest.slice(0, error.index);
      }
    }
    if (rest.length > 0) {
      for (const item of rest) {
        try {
          record(await sink.write([item.parsed]));
        } catch (lineError) {
          if (!(lineError instanceof RejectedChangeError)) throw lineError;
          bad(item.line, `refused: ${lineError.message}`);
          if (stoppedAt !== null) break;
        }
      }
    }
    batch.length = 0;
    progress.update({ done: done(), total });
  };

  const batch: Array<{ line: number; parsed: ImportLine }> = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  try {
    for await (const text of lines) {
      counts.read++;
      if (text.trim() === '') {
        counts.blank++;
        continue;
      }
      let parsed: ImportLine;
      try {
        parsed = parseImportLine(text, importTime);
        const key = `${subjectKey(parsed.change.subject)} ${parsed.change.purpose}`;
        const previous = latest.get(key);
        if (previous !== undefined && parsed.at.getTime() < previous) {
          throw new InvalidInputError(
            `at ${parsed.at.toISOString()} goes back in time: an earlier line changed the same subject and purpose at ${new Date(previous).toISOString()}, and this line would override that newer choice (order each subject's lines by time)`,
          );
        }
        latest.set(key, parsed.at.getTime());
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        bad(counts.read, error.message);
        if (stoppedAt !== null) break;
        continue;
      }
      batch.push({ line: counts.read, parsed });
      if (batch.length >= batchSize) {
        await flush(batch);
        if (stoppedAt !== null || options.signal?.aborted) break;
      }
    }
    if (!options.signal?.aborted) await flush(batch);
  } catch (error) {
    progress.finish({ done: done(), total });
    throw new ImportAbortedError((error as Error).message, { ...counts, badLines, stoppedAt, interrupted: false, elapsedMs: performance.now() - started });
  } finally {
    lines.close();
  }
  progress.finish({ done: done(), total });
  return { ...counts, badLines, stoppedAt, interrupted: options.signal?.aborted === true, elapsedMs: performance.now() - started };
}

/** The import failed midway (the path failed, not a line); `summary` says what was done before. */
export class ImportAbortedError extends Error {
  override name = 'ImportAbortedError';
  constructor(
    message: string,
    readonly summary: ImportSummary,
  ) {
    super(message);
  }
}

/** The summary `npm run consent:import` prints. */
export function describeSummary(file: string, target: string, summary: ImportSummary, options: { failed?: boolean } = {}): string[] {
  const n = (value: number) => value.toLocaleString('en-US');
  const seconds = summary.elapsedMs / 1000;
  const handled = summary.written + summary.replayed + summary.unreported;
  const rate = seconds > 0 ? Math.round(handled / seconds) : 0;
  const unlisted = summary.skipped - summary.badLines.length;
  return [
    `${options.failed ? 'Failed partway importing' : summary.interrupted ? 'Interrupted (a re-run replays what was written and goes on) importing' : summary.stoppedAt === null ? 'Imported' : `Stopped at bad line ${summary.stoppedAt} (--strict) importing`} ${file} into ${target}`,
    `  lines read     ${n(summary.read)}${summary.blank > 0 ? ` (${n(summary.blank)} blank)` : ''}`,
    // A server whose payload has no `replayed` can't tell a new change from a replay: say so
    // rather than print zeros.
    ...(summary.unreported > 0 && summary.written + summary.replayed === 0
      ? [`  recorded       ${n(summary.unreported)} (written or replayed: this server's changeConsents payload does not say which)`]
      : [
          `  written        ${n(summary.written)}`,
          `  replayed       ${n(summary.replayed)} (idempotency key already used: nothing written)`,
          ...(summary.unreported > 0 ? [`  recorded       ${n(summary.unreported)} (written or replayed: the server did not say which)`] : []),
        ]),
    `  skipped (bad)  ${n(summary.skipped)}${summary.badLines.length > 0 ? ` (first ${summary.badLines.length} listed on stderr${unlisted > 0 ? `, ${n(unlisted)} more not listed` : ''})` : ''}`,
    `  elapsed        ${formatDuration(seconds)} (${seconds.toFixed(1)} s)`,
    `  rate           ${n(rate)} changes/s`,
  ];
}

// Counts the file's lines up front (a byte scan, fast next to the writes) for the progress's total.
async function countLines(file: string): Promise<number> {
  let count = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) count++;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  return last === 0x0a ? count : count + 1;
}

const USAGE = `Usage: npm run consent:import -- FILE.ndjson [--strict] [--batch-size N]

One change a line: {"set": {SetConsentInput}} or {"clear": {ClearConsentInput}}, with "actor" (who
made the choice) and "at" (ISO-8601 time it was made). With MONGODB_URI set, writes straight to the
database; otherwise calls changeConsents at CONSENT_URL (default http://127.0.0.1:4000/graphql) with
the bearer token CONSENT_ADMIN_TOKEN (scope consent:admin). See docs/operations.md.`;

interface Arguments {
  readonly file: string;
  readonly strict: boolean;
  readonly batchSize: number;
}

function parseArguments(argv: readonly string[]): Arguments {
  let file: string | null = null;
  let strict = false;
  let batchSize = MAX_BATCH;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--strict') strict = true;
    else if (arg === '--batch-size') {
      batchSize = Number(argv[++i]);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) throw new UsageError(`--batch-size must be an integer from 1 to ${MAX_BATCH}, but got: ${JSON.stringify(argv[i])}`);
    } else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else if (arg.startsWith('-')) throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
    else if (file === null) file = arg;
    else throw new UsageError(`one file at a time, but got a second: ${JSON.stringify(arg)}`);
  }
  if (file === null) throw new UsageError('no file given');
  return { file, strict, batchSize };
}

class UsageError extends Error {}

// The path MONGODB_URI or CONSENT_ADMIN_TOKEN selects.
async function openSink(): Promise<ChangeSink> {
  const config = loadConfig();
  if (config.database.uri !== null) {
    // A batch of 1000 appends takes far longer than one request's deadline. The projection is
    // written once, at the end (each subject once, new ones by insert); reads meanwhile follow the log.
    const store = await openStore({ uri: config.database.uri, dbName: config.database.dbName, timeoutMs: Math.max(config.dbTimeoutMs, 120_000), deferProjection: true });
    return storeSink(store, `database ${config.database.dbName} directly (MONGODB_URI), as each line's actor`, (line) => process.stdout.write(`${line}\n`));
  }
  const token = process.env.CONSENT_ADMIN_TOKEN;
  if (!token) {
    throw new ImportFailedError('set MONGODB_URI to write straight to the database, or CONSENT_ADMIN_TOKEN (a token with scope consent:admin) and CONSENT_URL to import through the API');
  }
  return graphqlSink({ url: urlVar(process.env, 'CONSENT_URL', 'http://127.0.0.1:4000/graphql'), token });
}

// `npm run consent:import -- FILE`: exit 0 when the file was imported (bad lines skipped),
// 1 when --strict stopped at a bad line, 2 when the import could not run or failed midway, 130
// when interrupted.
async function main(): Promise<void> {
  let args: Arguments;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message ? `consent:import: ${error.message}\n\n` : ''}${USAGE}\n`);
    process.exit(error.message ? 2 : 0);
  }
  // Before connecting anywhere: a mistyped path is the commonest mistake.
  await access(args.file, constants.R_OK).catch((error: Error) => {
    throw new ImportFailedError(`cannot read ${args.file}: ${error.message}`);
  });
  const sink = await openSink();
  // The first Ctrl-C (or SIGTERM) lets the batch in flight finish and prints the summary; a second quits at once.
  const interrupt = new AbortController();
  const stop = () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write('\nStopping after the batch being written (again to quit now)...\n');
    interrupt.abort();
  };
  process.on('SIGINT', stop).on('SIGTERM', stop);
  try {
    const summary = await importConsents(args.file, sink, { strict: args.strict, batchSize: args.batchSize, signal: interrupt.signal });
    for (const line of describeSummary(args.file, sink.target, summary)) process.stdout.write(`${line}\n`);
    process.exitCode = summary.interrupted ? 130 : summary.stoppedAt === null ? 0 : 1;
  } catch (error) {
    if (!(error instanceof ImportAbortedError)) throw error;
    for (const line of describeSummary(args.file, sink.target, error.summary, { failed: true })) process.stdout.write(`${line}\n`);
    throw new Error(`${error.message}\nWhat was written stays; a re-run of the same file replays it and goes on.`);
  } finally {
    await sink.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`\nconsent:import failed: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
