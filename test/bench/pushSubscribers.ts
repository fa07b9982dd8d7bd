import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { monotonicMs } from './monotonicMs.js';

// Forked by `npm run bench:push` (pushBench.ts): holds a share of the graphql-ws subscribers in a
// process of its own, so the server's event loop is measured without its clients on it. Arrival
// times are taken on the machine's monotonic clock, which the bench process reads too; latencies
// are computed here at the end, against the acknowledgement times the bench sends, and returned in
// one message (never one IPC message per delivery).

/** What the bench asks a subscriber process to do; each command is answered by one {@link SubscriberReply} with its `seq`. */
export type SubscriberCommand =
  | { seq: number; kind: 'open'; url: string; token: string; query: string; count: number }
  | { seq: number; kind: 'status' }
  | { seq: number; kind: 'clock' }
  | { seq: number; kind: 'mark' }
  | { seq: number; kind: 'collect'; acked: Array<[id: string, at: number]> }
  | { seq: number; kind: 'close' };

/** Where this process's subscriptions stand. */
export interface SubscriberStatus {
  readonly opened: number;
  /** Subscriptions that have received at least one event since they were opened. */
  readonly withEvent: number;
  /** Events received since the last `mark`, over every subscription. */
  readonly received: number;
  /** Subscriptions ended with an error, by `extensions.code` (or message). */
  readonly ended: Record<string, number>;
}

/** Latencies of the acknowledged events since the last `mark`, and what this process spent receiving them. */
export interface SubscriberCollection {
  /** Arrival minus acknowledgement, ms, one per delivery of an acknowledged event. */
  readonly latencies: Float64Array;
  /** First and last arrival of an acknowledged event (monotonic ms), NaN if none. */
  readonly firstArrival: number;
  readonly lastArrival: number;
  /** CPU time of this process since the last `mark`, µs. */
  readonly cpuMicros: number;
  /** This process's event-loop delay since the last `mark`, ms. */
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
}

/** The answer to one command. */
export type SubscriberReply = { seq: number; error?: string } & (
  | { kind: 'opened'; opened: number }
  | { kind: 'status'; status: SubscriberStatus }
  | { kind: 'clock'; at: number }
  | { kind: 'marked' }
  | { kind: 'collected'; collection: SubscriberCollection }
  | { kind: 'closed' }
);

interface Subscription {
  client: Client;
  unsubscribe: () => void;
  events: number;
}

function serve(): void {
  const subscriptions: Subscription[] = [];
  const ended = new Map<string, number>();
  let arrivals = new Map<string, number[]>();
  let received = 0;
  let cpuMark = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const open = (url: string, token: string, query: string) => {
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: true,
    });
    const subscription: Subscription = { client, unsubscribe: () => {}, events: 0 };
    const end = (code: string) => ended.set(code, (ended.get(code) ?? 0) + 1);
    subscription.unsubscribe = client.subscribe<{ consentChanged?: { id: string } }>(
      { query },
      {
        next: (result) => {
          const at = monotonicMs();
          const id = result.data?.consentChanged?.id;
          if (id === undefined) {
            for (const error of result.errors ?? []) end(String(error.extensions?.code ?? error.message));
            return;
          }
          subscription.events++;
          received++;
          const times = arrivals.get(id);
          if (times === undefined) arrivals.set(id, [at]);
          else times.push(at);
        },
        error: (error) => {
          const first = Array.isArray(error) ? error[0] : error;
          end(String(first?.extensions?.code ?? (first as Error)?.message ?? (first as { reason?: string })?.reason ?? first));
        },
        complete: () => {},
      },
    );
    subscriptions.push(subscription);
  };

  const handle = async (command: SubscriberCommand): Promise<SubscriberReply> => {
    switch (command.kind) {
      case 'open':
        for (let i = 0; i < command.count; i++) open(command.url, command.token, command.query);
        return { seq: command.seq, kind: 'opened', opened: subscriptions.length };
      case 'status':
        return {
          seq: command.seq,
          kind: 'status',
          status: { opened: subscriptions.length, withEvent: subscriptions.filter((s) => s.events > 0).length, received, ended: Object.fromEntries(ended) },
        };
      case 'clock':
        return { seq: command.seq, kind: 'clock', at: monotonicMs() };
      case 'mark':
        arrivals = new Map();
        received = 0;
        cpuMark = process.cpuUsage();
        loopDelay.reset();
        return { seq: command.seq, kind: 'marked' };
      case 'collect': {
        const latencies: number[] = [];
        let firstArrival = NaN;
        let lastArrival = NaN;
        for (const [id, ackedAt] of command.acked) {
          for (const at of arrivals.get(id) ?? []) {
            latencies.push(at - ackedAt);
            if (!(at >= firstArrival)) firstArrival = at;
            if (!(at <= lastArrival)) lastArrival = at;
          }
        }
        const cpu = process.cpuUsage(cpuMark);
        return {
          seq: command.seq,
          kind: 'collected',
          collection: {
            latencies: Float64Array.from(latencies),
            firstArrival,
            lastArrival,
            cpuMicros: cpu.user + cpu.system,
            loopDelayP99: loopDelay.percentile(99) / 1e6,
            loopDelayMax: loopDelay.max / 1e6,
          },
        };
      }
      case 'close':
        await Promise.all(
          subscriptions.splice(0).map((s) => {
            s.unsubscribe();
            return s.client.dispose();
          }),
        );
        ended.clear();
        return { seq: command.seq, kind: 'closed' };
    }
  };

  process.on('message', (command: SubscriberCommand) => {
    handle(command).then(
      (reply) => process.send!(reply),
      (error: unknown) => process.send!({ seq: command.seq, kind: 'closed', error: String(error) } satisfies SubscriberReply),
    );
  });
  // The bench ends this process by closing the channel (or by dying).
  process.once('disconnect', () => process.exit(0));
}

if (process.send !== undefined) serve();
