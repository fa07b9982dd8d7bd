import autocannon from 'autocannon';

/** One load run, as the benchmark asks the child process for it. */
export interface LoadRequest {
  readonly url: string;
  readonly token: string;
  /** JSON request bodies, sent in turn (each connection walks the list from its own offset). */
  readonly bodies: readonly string[];
  readonly connections: number;
  /** Requests to send in all; the run ends when every one is answered, so no slow tail is dropped. */
  readonly amount?: number;
  /**
   * Instead of `amount`: send for this many seconds, then stop. Requests still out at the end count
   * as `unfinished`, each with the time it had waited so far as its latency (a lower bound).
   */
  readonly durationSeconds?: number;
}

/** What a load run measured. */
export interface LoadResult {
  readonly requests: number;
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Responses that were not HTTP 200 or carried GraphQL `errors`, and socket errors/timeouts. */
  readonly failures: number;
  /** Requests sent but not answered when the run ended; they count as infinitely slow in the percentiles. */
  readonly unfinished: number;
}

/**
 * Runs autocannon against one endpoint for a fixed number of requests and measures exact latency
 * percentiles from every response (autocannon's own summary has no p95). Runs in its own process so the load generator never
 * competes with the measured server for its event loop.
 */
export async function generateLoad(request: LoadRequest): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  // When each request still out was sent (autocannon gives every request its own context object).
  const sentAt = new Map<object, number>();
  if ((request.amount === undefined) === (request.durationSeconds === undefined)) throw new Error('A load run needs exactly one of amount and durationSeconds.');
  const instance = autocannon({
    url: request.url,
    method: 'POST',
    connections: request.connections,
    ...(request.amount !== undefined ? { amount: request.amount } : { duration: request.durationSeconds! }),
    timeout: 900,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${request.token}` },
    requests: [
      {
        setupRequest: (req, context) => {
          sentAt.set(context, performance.now());
          return { ...req, body: request.bodies[next++ % request.bodies.length] };
        },
        onResponse: (status, body, context) => {
          sentAt.delete(context);
          if (status !== 200 || body.includes('"errors"')) failures++;
        },
      },
    ],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await instance;
  const ended = performance.now();
  const answered = latencies.length;
  // A run that ends while slow requests are still out must not report only the fast ones: with
  // `amount` they count as infinitely slow; with a duration, as slow as they had been so far.
  const unfinished = Math.max(0, next - answered - result.errors - result.timeouts);
  const waited = [...sentAt.values()].map((t) => ended - t).sort((a, b) => b - a);
  for (let i = 0; i < unfinished; i++) latencies.push(request.durationSeconds === undefined ? Infinity : (waited[i] ?? Infinity));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!);
  return {
    requests: answered,
    durationSeconds: result.duration,
    requestsPerSecond: answered / result.duration,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    failures: failures + result.errors + result.timeouts,
    unfinished,
  };
}

// Forked by the benchmark: one request in over IPC, one result out, then exit.
if (process.send !== undefined) {
  process.once('message', (message: LoadRequest) => {
    generateLoad(message).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (error: unknown) => process.send!({ error: String(error) }, () => process.exit(1)),
    );
  });
}
