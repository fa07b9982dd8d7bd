import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CONSENT_SDL } from '../../src/schema.js';
import { CALLER_DEPENDENT_EVENT_FIELDS, operationKey, SharedPayloadWebSocket } from '../../src/subscriptions/sharedExecution.js';

const WATCH = 'subscription Watch($after: String, $purposes: [ConsentPurpose!]) { consentChanged(after: $after, purposes: $purposes) { id actor feedCursor } }';
const key = (query: string, variableValues: Record<string, unknown> = {}, operationName?: string) => operationKey({ document: parse(query), variableValues, operationName });

describe('operationKey: which subscribers may share an event result', () => {
  it('is the same whatever the root field arguments (cursor, purposes), given as variables or inline', () => {
    expect(key(WATCH, { after: 'abc', purposes: ['AI_TRAINING'] })).toBe(key(WATCH, {}));
    expect(key('subscription { consentChanged(after: "x") { id } }')).toBe(key('subscription { consentChanged(purposes: [ADVERTISING]) { id } }'));
  });

  it('differs with the selection, its alias, the operation name, and the variables the selection reads', () => {
    expect(key(WATCH)).not.toBe(key(WATCH.replace('feedCursor', 'hash')));
    expect(key('subscription { consentChanged { id } }')).not.toBe(key('subscription { c: consentChanged { id } }'));
    const two = 'subscription A { consentChanged { id } } subscription B { consentChanged { id actor } }';
    expect(key(two, {}, 'A')).not.toBe(key(two, {}, 'B'));
    const include = 'subscription W($who: Boolean!) { consentChanged { id actor @include(if: $who) } }';
    expect(key(include, { who: true })).not.toBe(key(include, { who: false }));
    expect(key(include, { who: true })).toBe(key(include, { who: true }));
  });
});

describe('ConsentEvent, the shared result', () => {
  it('has no field whose value depends on the caller other than those the visibility class covers', () => {
    // A new ConsentEvent field must be checked: if its value depends on the caller (token, scopes,
    // subject), sharedExecution.ts's visibility class must cover it before it is listed here.
    const type = parse(CONSENT_SDL).definitions.find((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'ConsentEvent');
    const fields = type!.fields!.map((f) => f.name.value).sort();
    const callerIndependent = ['artistId', 'at', 'choice', 'expiresAt', 'feedCursor', 'hash', 'id', 'kind', 'prevHash', 'purpose', 'seq', 'source', 'termsVersion', 'trackId'];
    expect(fields).toEqual([...callerIndependent, ...CALLER_DEPENDENT_EVENT_FIELDS].sort());
  });
});

describe('SharedPayloadWebSocket: one write per turn, bounded', () => {
  let http: Server | null = null;
  let client: WebSocket | null = null;
  afterEach(async () => {
    client?.terminate();
    if (http !== null) await new Promise((resolve) => http!.close(resolve));
  });

  // A server socket as serveSubscriptions makes it, and a client connected to it.
  async function connect(): Promise<{ server: SharedPayloadWebSocket; client: WebSocket; received: string[] }> {
    http = createServer();
    const wss = new WebSocketServer({ noServer: true, WebSocket: SharedPayloadWebSocket });
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        (ws as SharedPayloadWebSocket).raw = socket;
        wss.emit('connection', ws);
      }),
    );
    const connected = once(wss, 'connection');
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const received: string[] = [];
    client.on('message', (data) => received.push(String(data)));
    const [server] = (await connected) as [SharedPayloadWebSocket];
    await once(client, 'open');
    return { server, client, received };
  }

  it('acknowledges sends at once only while under 16 KiB is unwritten, and delivers every message in order', async () => {
    const { server, received } = await connect();
    const message = (i: number) => `${i}:`.padEnd(1024, 'x');
    let acknowledged = 0;
    for (let i = 0; i < 100; i++) server.send(message(i), (error?: Error | null) => void (!error && acknowledged++));
    expect(acknowledged).toBeGreaterThanOrEqual(15);
    expect(acknowledged).toBeLessThanOrEqual(17);
    for (let waited = 0; received.length < 100 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => message(i)));
    expect(acknowledged).toBe(100);
  });

  it('stalls a sender whose client stops reading (as graphql-ws awaits each send), holding little in memory', async () => {
    const { server, client } = await connect();
    client.pause();
    const big = 'x'.repeat(64 * 1024);
    let sent = 0;
    for (; sent < 400; sent++) {
      const acknowledged = await Promise.race([new Promise((resolve) => server.send(big, () => resolve(true))), new Promise((resolve) => setTimeout(() => resolve(false), 500))]);
      if (!acknowledged) break;
    }
    expect(sent).toBeLessThan(400); // stalled once the kernel's buffers filled
    expect(server.bufferedAmount).toBeLessThanOrEqual(16 * 1024 + 2 * (64 * 1024 + 16));
  });
});
