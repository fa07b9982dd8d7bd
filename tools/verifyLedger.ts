import { pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';
import { applyToSubject, hashEvent, type UnhashedEvent } from '../src/consent/event.js';
import { loadConfig } from '../src/config.js';
import { embeddedDataDir, startFerretdb, type RunningFerretdb } from '../dev/embedded/startFerretdb.js';
import { collectionsOf, type Collections, type EventDoc, type StateDoc, type StatementDoc } from '../src/store/collections.js';
import { eventFromDoc } from '../src/store/documents.js';
import { clientOptions } from '../src/store/openStore.js';
import { subjectKey } from '../src/store/subjectKey.js';

/** The first event at which a chain (or the global order) stops being what the ledger promises. */
export interface LedgerBreak {
  readonly subject: string;
  /** The subject's seq at which the chain breaks (for a missing event: the seq that is missing). */
  readonly seq: number;
  /** The global position involved, when known. */
  readonly gseq: number | null;
  readonly problem: string;
}

/** What a verification found. */
export interface LedgerReport {
  readonly events: number;
  readonly subjects: number;
  readonly elapsedMs: number;
  /** The part of `elapsedMs` spent reading from the database (the rest is checking). */
  readonly readMs: number;
  readonly eventsPerSecond: number;
  /** The first break of each broken subject chain (by gseq), then any gap in the global order. */
  readonly breaks: readonly LedgerBreak[];
  /** The earliest chain break (or else the global gap), or null when the whole ledger verifies. */
  readonly firstBreak: LedgerBreak | null;
}

// Large enough to keep round trips few; FerretDB answers very large batches more slowly.
const READ_BATCH = 1000;

/**
 * Verifies the whole ledger in one read: every subject's chain runs seq 1..n without gaps, each
 * prevHash is the previous event's hash, each hash matches the event's content (recomputed with the
 * core's `hashEvent`), each `state` is the fold of the chain so far (what point-in-time reads
 * trust), time never runs backwards within a chain, and gseq runs 1..N without gaps or repeats.
 */
export async function verifyLedger(collections: Collections): Promise<LedgerReport> {
  const started = performance.now();
  // One unfiltered cursor over everything, sorted here: on FerretDB any sort or filter scans the
  // whole collection in Go anyway, so one plain scan is the cheapest read (leaving fields out
  // saves little there: BENCHMARKS.md, figures moved from code comments).
  const [docs, heads] = await Promise.all([
    collections.events.find({}, { batchSize: READ_BATCH }).toArray(),
    collections.states.find({}, { batchSize: READ_BATCH }).toArray(),
  ]);
  const readMs = performance.now() - started;
  const bySubject = new Map<string, EventDoc[]>();
  for (const doc of docs) {
    const list = bySubject.get(doc.subject);
    if (list === undefined) bySubject.set(doc.subject, [doc]);
    else list.push(doc);
  }
  const breaks: LedgerBreak[] = [];
  for (const [subject, chain] of bySubject) {
    chain.sort((a, b) => a.seq - b.seq);
    const broken = verifyChain(subject, chain);
    if (broken !== null) breaks.push(broken);
  }
  // The projection remembers each head: it catches a deleted last event, which leaves no gap.
  const brokenSubjects = new Set(breaks.map((b) => b.subject));
  for (const head of heads) {
    if (brokenSubjects.has(head._id)) continue;
    const broken = verifyAgainstProjection(head._id, bySubject.get(head._id) ?? [], head);
    if (broken !== null) breaks.push(broken);
  }
  breaks.sort((a, b) => (a.gseq ?? Infinity) - (b.gseq ?? Infinity));
  // A gap in the global order says an event is gone, not whose: the chain breaks above say that,
  // so the gap is reported after them.
  const gap = verifyGlobalOrder(docs);
  if (gap !== null) breaks.push(gap);
  const elapsedMs = performance.now() - started;
  return {
    events: docs.length,
    subjects: bySubject.size,
    elapsedMs,
    readMs,
    eventsPerSecond: docs.length === 0 ? 0 : Math.round(docs.length / (elapsedMs / 1000)),
    breaks,
    firstBreak: breaks[0] ?? null,
  };
}

function verifyChain(subject: string, chain: readonly EventDoc[]): LedgerBreak | null {
  let previous: EventDoc | null = null;
  let state: StatementDoc[] = [];
  for (const [index, doc] of chain.entries()) {
    const expectedSeq = index + 1;
    const at = (problem: string, seq = doc.seq): LedgerBreak => ({ subject, seq, gseq: doc.gseq ?? null, problem });
    if (doc.seq !== expectedSeq) {
      return at(`seq ${expectedSeq} is missing: the chain goes from seq ${expectedSeq - 1} to seq ${doc.seq} (event deleted or renumbered)`, expectedSeq);
    }
    if (typeof doc.artistId !== 'string' || subjectKey({ artistId: doc.artistId, trackId: doc.trackId ?? null }) !== subject) {
      return at(`the event's artistId/trackId do not match its subject`);
    }
    const { hash: _hash, ...unhashed } = eventFromDoc(doc) as UnhashedEvent & { hash: string };
    let recomputed: string | null = null;
    try {
      recomputed = hashEvent(unhashed);
    } catch {
      // A field of the wrong type (an edited date, say) cannot even be hashed: that is a break too.
    }
    if (recomputed !== doc.hash) return at(`hash does not match the event's content (an edited field or a moved event)`);
    if (doc.prevHash !== (previous?.hash ?? null)) {
      return at(previous === null ? 'the first event has a prevHash' : `prevHash does not link to the hash of seq ${previous.seq}`);
    }
    if (previous !== null && doc.at.getTime() < previous.at.getTime()) return at(`time runs backwards from seq ${previous.seq}`);
    state = applyToSubject(state, unhashed);
    if (!sameStatements(state, doc.state)) return at(`the stored state is not the fold of the chain up to this event`);
    previous = doc;
  }
  return null;
}

function verifyAgainstProjection(subject: string, chain: readonly EventDoc[], head: Pick<StateDoc, 'seq' | 'hash'>): LedgerBreak | null {
  if (head.seq > chain.length) {
    return { subject, seq: chain.length + 1, gseq: null, problem: `seq ${chain.length + 1} is missing: the chain ends at seq ${chain.length} but the projection records head seq ${head.seq} (event deleted)` };
  }
  const event = chain[head.seq - 1];
  if (event !== undefined && event.hash !== head.hash) {
    return { subject, seq: head.seq, gseq: event.gseq, problem: `hash differs from the one the projection recorded for seq ${head.seq}` };
  }
  return null;
}

function verifyGlobalOrder(docs: readonly EventDoc[]): LedgerBreak | null {
  const ordered = [...docs].sort((a, b) => a.gseq - b.gseq);
  for (const [index, doc] of ordered.entries()) {
    if (doc.gseq === index + 1) continue;
    const problem = doc.gseq === index
      ? `gseq ${doc.gseq} appears twice`
      : `gseq ${index + 1} is missing from the global order (an event was deleted; the change feed waits for it), found at the next position`;
    return { subject: doc.subject, seq: doc.seq, gseq: index + 1, problem };
  }
  return null;
}

function sameStatements(expected: readonly StatementDoc[], stored: unknown): boolean {
  if (!Array.isArray(stored) || stored.length !== expected.length) return false;
  return canonical(expected) === canonical(stored as StatementDoc[]);
}

function canonical(statements: readonly StatementDoc[]): string {
  const time = (d: unknown) => (d instanceof Date ? d.toISOString() : d === null ? null : `not a date: ${String(d)}`);
  return JSON.stringify(
    statements
      .map((s) => [s.purpose, s.id, s.choice, s.termsVersion, s.source, s.actor, time(s.createdAt), time(s.expiresAt)])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
  );
}

/** One report line per finding, and the rate; what `npm run ledger:verify` prints. */
export function describeReport(report: LedgerReport): string[] {
  const seconds = (ms: number) => (ms / 1000).toFixed(2);
  const rate = `${report.events} events of ${report.subjects} subjects in ${seconds(report.elapsedMs)} s (${report.eventsPerSecond} events/s; reading ${seconds(report.readMs)} s, checking ${seconds(report.elapsedMs - report.readMs)} s)`;
  if (report.firstBreak === null) return [`Ledger OK: verified ${rate}.`];
  const line = (b: LedgerBreak) => `  subject ${b.subject} seq ${b.seq}${b.gseq === null ? '' : ` (gseq ${b.gseq})`}: ${b.problem}`;
  return [
    `Ledger BROKEN: checked ${rate}.`,
    `First broken event:`,
    line(report.firstBreak),
    ...(report.breaks.length > 1 ? [`All ${report.breaks.length} breaks (first per chain, by gseq):`, ...report.breaks.map(line)] : []),
  ];
}

// `npm run ledger:verify`: the configured database (MONGODB_URI, or the embedded FerretDB data
// directory, started for the check), exit 1 on any break, 2 when the check could not run.
async function main(): Promise<void> {
  const config = loadConfig();
  let ferretdb: RunningFerretdb | null = null;
  let uri = config.database.uri;
  if (uri === null) {
    ferretdb = await startFerretdb({ dataDir: embeddedDataDir() });
    uri = ferretdb.uri;
  }
  // A full scan of a large ledger takes longer than one request's deadline.
  const client = new MongoClient(uri, { ...clientOptions(Math.max(config.dbTimeoutMs, 300_000)), appName: 'consent-ledger-verify' });
  try {
    await client.connect();
    const report = await verifyLedger(collectionsOf(client.db(config.database.dbName)));
    for (const line of describeReport(report)) process.stdout.write(`${line}\n`);
    process.exitCode = report.firstBreak === null ? 0 : 1;
  } finally {
    await client.close();
    await ferretdb?.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`ledger:verify could not run: ${(error as Error).message}\n`);
    process.exit(2);
  });
}
