import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { PURPOSES } from '../../src/consent/purposes.js';

// The benchmark's write clients, in their own process (forked by writeRows.ts) so they never
// share an event loop with the servers they measure. Everything goes through the GraphQL API.

/** One writer: an artist, a track of that artist, and a token that may change that artist. */
export interface Writer {
  readonly artistId: string;
  readonly trackId: string;
  readonly token: string;
}

/** Closed loop: each writer sends `setConsent` on its own artist and awaits the reply, for `seconds`. */
export interface ClosedWritesRequest {
  readonly kind: 'closed';
  readonly url: string;
  readonly writers: readonly Writer[];
  readonly seconds: number;
}

/**
 * Paced: `rate` setConsent calls a second spread over the writers (each writer has at most one
 * call out), plus a probe that writes through `url` and reads its own write back at once through
 * `probe.readUrl`; runs until the parent sends `{ kind: 'stop' }`.
 */
export interface PacedWritesRequest {
  readonly kind: 'paced';
  readonly url: string;
  readonly writers: readonly Writer[];
  readonly rate: number;
  readonly probe: { readonly writer: Writer; readonly readUrl: string; readonly readToken: string };
}

/** What a run of writes measured; latencies in ms, from sending a call to its parsed reply. */
export interface WriteStats {
  /** Calls answered without errors. */
  readonly changes: number;
  /** From the first call sent to the last reply. */
  readonly seconds: number;
  readonly changesPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Calls answered with an HTTP error or GraphQL `errors`, or not answered. */
  readonly errors: number;
  readonly firstError: string | null;
}

/** What the paced writers and the read-your-write probe measured. */
export interface PacedWritesResult {
  /** Every paced call, those answered after the stop included. */
  readonly writes: WriteStats;
  /** From the first call to the stop. */
  readonly windowSeconds: number;
  /** Paced calls answered without errors before the stop: what landed while the reads ran. */
  readonly landedInWindow: number;
  /** Calls that fell due while every writer was still waiting for its previous reply, and were dropped. */
  readonly skipped: number;
  readonly probe: {
    readonly writes: number;
    /** Reads on the other replica, right after an acknowledged write, that did not show that write. */
    readonly stale: number;
    readonly writeErrors: number;
    readonly readErrors: number;
    readonly firstError: string | null;
  };
}

const SET_CONSENT = /* GraphQL */ `
  mutation BenchSetConsent($input: SetConsentInput!) {
    setConsent(input: $input) { revision event { id } }
  }`;

// The probe reads the deciding statement of the purpose it just set: its id is the id of the event that made it.
const READ_BACK = /* GraphQL */ `
  query BenchReadBack($representations: [_Any!]!, $purpose: ConsentPurpose!) {
    _entities(representations: $representations) {
      ... on Artist { consent { decision(purpose: $purpose) { statement { id } } } }
      ... on Track { consent { decision(purpose: $purpose) { statement { id } } } }
    }
  }`;

type Subject = { readonly artistId: string; readonly trackId?: string };

/** The `i`-th change of a writer: purposes in turn, the choice flipping every pass over them. */
function changeOf(i: number): { purpose: string; choice: 'ALLOW' | 'DENY' } {
  return { purpose: PURPOSES[i % PURPOSES.length]!, choice: Math.floor(i / PURPOSES.length) % 2 === 0 ? 'ALLOW' : 'DENY' };
}

// A client gives up on a call after this long (an error in the figures); the ledger count in
// writeRows.ts still shows what the server landed in the end.
const CALL_TIMEOUT_MS = 60_000;

// One keep-alive agent for every call: node:http costs the client about half the CPU of fetch
// (undici) per call, and the client shares the machine's two cores with the servers it measures.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

async function postJson(url: string, token: string, body: unknown): Promise<any> {
  const payload = Buffer.from(JSON.stringify(body));
  let status: number;
  let text: string;
  try {
    ({ status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const call = request(
        url,
        { method: 'POST', agent, timeout: CALL_TIMEOUT_MS, headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization: `Bearer ${token}` } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          response.on('error', reject);
        },
      );
      call.on('timeout', () => call.destroy(new Error(`no reply within ${CALL_TIMEOUT_MS / 1000} s`)));
      call.on('error', reject);
      call.end(payload);
    }));
  } catch (error) {
    throw new Error(error instanceof Error && error.message.startsWith('no reply') ? error.message : `request failed: ${String(error)}`);
  }
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${status}: ${text.slice(0, 200)}`);
  }
  if (status !== 200 || json.errors !== undefined) {
    const first = json.errors?.[0];
    throw new Error(`HTTP ${status}: ${first ? `${first.message} (${first.extensions?.code ?? 'no code'})` : text.slice(0, 200)}`);
  }
  return json.data;
}

/** Sends one setConsent and returns the id of the event it recorded. */
export async function setConsent(url: string, token: string, subject: Subject, i: number): Promise<string> {
  const input = { subject, ...changeOf(i), termsVersion: 'bench-terms-1', source: 'bench' };
  const data = await postJson(url, token, { query: SET_CONSENT, variables: { input } });
  const id = data?.setConsent?.event?.id;
  if (typeof id !== 'string') throw new Error(`setConsent answered without an event id: ${JSON.stringify(data).slice(0, 200)}`);
  return id;
}

/** The id of the statement deciding `purpose` for `subject`, read through `url` (null: none). */
async function readBack(url: string, token: string, subject: Subject, purpose: string): Promise<string | null> {
  const representation = subject.trackId === undefined ? { __typename: 'Artist', id: subject.artistId } : { __typename: 'Track', id: subject.trackId, artist: { id: subject.artistId } };
  const data = await postJson(url, token, { query: READ_BACK, variables: { representations: [representation], purpose } });
  const consent = data?._entities?.[0]?.consent;
  if (consent === null || consent === undefined) throw new Error(`read-back answered without consent: ${JSON.stringify(data).slice(0, 200)}`);
  return consent.decision?.statement?.id ?? null;
}

/** Latency percentiles and counts of a run of calls. */
class Tally {
  readonly latencies: number[] = [];
  /** When each call in `latencies` was answered (performance.now()). */
  readonly answeredAt: number[] = [];
  errors = 0;
  firstError: string | null = null;

  fail(error: unknown): void {
    this.errors++;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }

  stats(seconds: number): WriteStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    return {
      changes: sorted.length,
      seconds,
      changesPerSecond: sorted.length / seconds,
      p50: at(0.5),
      p99: at(0.99),
      max: sorted[sorted.length - 1] ?? NaN,
      errors: this.errors,
      firstError: this.firstError,
    };
  }
}

/** One timed setConsent; an error is counted, never thrown (an erroring writer pauses briefly, so it can't spin). */
async function timedSet(tally: Tally, url: string, writer: Writer, i: number): Promise<void> {
  const t0 = performance.now();
  try {
    await setConsent(url, writer.token, { artistId: writer.artistId }, i);
    const t1 = performance.now();
    tally.latencies.push(t1 - t0);
    tally.answeredAt.push(t1);
  } catch (error) {
    tally.fail(error);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a closed-loop write load; calls sent before the deadline are awaited and counted. */
export async function closedWrites(request: ClosedWritesRequest): Promise<WriteStats> {
  const tally = new Tally();
  const started = performance.now();
  const deadline = started + request.seconds * 1000;
  await Promise.all(
    request.writers.map(async (writer, w) => {
      for (let i = w; performance.now() < deadline; i++) await timedSet(tally, request.url, writer, i);
    }),
  );
  return tally.stats((performance.now() - started) / 1000);
}

/** Runs paced writes and the probe until `stopped` resolves, then awaits every call still out. */
export async function pacedWrites(request: PacedWritesRequest, stopped: Promise<void>): Promise<PacedWritesResult> {
  const tally = new Tally();
  const free = request.writers.map((_, w) => w);
  const sent = request.writers.map((_, w) => w);
  const out = new Set<Promise<void>>();
  let issued = 0;
  let skipped = 0;
  const started = performance.now();
  const pacer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) * request.rate) / 1000);
    // A backlog longer than the writers is dropped: sending it later would exceed the rate.
    if (due - issued > request.writers.length) {
      skipped += due - issued - request.writers.length;
      issued = due - request.writers.length;
    }
    while (issued < due && free.length > 0) {
      const w = free.shift()!;
      issued++;
      const call = timedSet(tally, request.url, request.writers[w]!, sent[w]!++).finally(() => {
        out.delete(call);
        free.push(w);
      });
      out.add(call);
    }
  }, 5);

  const probe = { writes: 0, stale: 0, writeErrors: 0, readErrors: 0, firstError: null as string | null };
  let stopping = false;
  const probing = (async () => {
    const { writer, readUrl, readToken } = request.probe;
    for (let i = 0; !stopping; i++) {
      // Artist-wide and track statements in turn: both kinds of subject must be fresh on the other replica.
      const subject: Subject = i % 2 === 0 ? { artistId: writer.artistId } : { artistId: writer.artistId, trackId: writer.trackId };
      let eventId: string;
      try {
        eventId = await setConsent(request.url, writer.token, subject, i);
        probe.writes++;
      } catch (error) {
        probe.writeErrors++;
        probe.firstError ??= `probe write: ${error instanceof Error ? error.message : String(error)}`;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      try {
        if ((await readBack(readUrl, readToken, subject, changeOf(i).purpose)) !== eventId) probe.stale++;
      } catch (error) {
        probe.readErrors++;
        probe.firstError ??= `probe read: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  })();

  await stopped;
  const stoppedAt = performance.now();
  clearInterval(pacer);
  stopping = true;
  while (out.size > 0) await Promise.all([...out]);
  await probing;
  return {
    writes: tally.stats((performance.now() - started) / 1000),
    windowSeconds: (stoppedAt - started) / 1000,
    landedInWindow: tally.answeredAt.filter((t) => t <= stoppedAt).length,
    skipped,
    probe,
  };
}

// Forked by writeRows.ts: one request in over IPC (a paced run also waits for `{ kind: 'stop' }`), one result out, then exit.
if (process.send !== undefined) {
  process.once('message', (message: ClosedWritesRequest | PacedWritesRequest) => {
    const run =
      message.kind === 'closed'
        ? closedWrites(message)
        : pacedWrites(message, new Promise<void>((resolve) => process.on('message', (m: { kind?: string }) => m.kind === 'stop' && resolve())));
    run.then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (error: unknown) => process.send!({ error: String(error) }, () => process.exit(1)),
    );
  });
}
