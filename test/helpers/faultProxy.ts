import { createConnection, createServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { aFreshStore, anotherConnection, dropStore, mongoUri } from './database.js';

/**
 * How the proxy treats traffic: pass it through, delay every chunk, reset the connection as soon as
 * the server starts replying (after forwarding the request, so the server may act on it; with
 * `when`, only the reply to a request whose bytes match), or swallow everything and answer nothing.
 */
export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'latency'; ms: number; /** Delay only the database's replies (requests reach it at once). */ repliesOnly?: boolean }
  | { kind: 'resetOnReply'; when?: (request: Buffer) => boolean }
  | { kind: 'blackhole' };

/** A TCP proxy on 127.0.0.1 in front of `target`, whose behaviour tests switch at run time. */
export interface FaultProxy {
  /** `mongodb://127.0.0.1:<port>/?directConnection=true` */
  readonly uri: string;
  readonly port: number;
  /** Applies to traffic from now on, on open connections too. */
  setMode(mode: FaultMode): void;
  /** How many connections were reset by `resetOnReply` so far. */
  readonly resets: number;
  /** Destroys every open connection (the client sees them drop). */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Starts a fault proxy forwarding to `target` (`host:port`), passing traffic until told otherwise. */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: FaultMode = { kind: 'pass' };
  let resets = 0;
  const open = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = createConnection({ host: target.host, port: target.port });
    open.add(client);
    open.add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);

    // Set when this connection forwarded a request the resetOnReply predicate matched.
    let armed = false;
    // Chunks go through one queue per direction so added latency never reorders them.
    const pipe = (from: Socket, to: Socket, replying: boolean) => {
      let queue = Promise.resolve();
      from.on('data', (chunk: Buffer) => {
        const now = mode;
        if (now.kind === 'blackhole') return;
        if (now.kind === 'resetOnReply' && !replying && (now.when === undefined || now.when(chunk))) armed = true;
        if (now.kind === 'resetOnReply' && replying && armed) {
          resets += 1;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        const due = Date.now() + (now.kind === 'latency' && (replying || now.repliesOnly !== true) ? now.ms : 0);
        queue = queue.then(async () => {
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          if (!to.destroyed) to.write(chunk);
        });
      });
    };
    pipe(client, upstream, false);
    pipe(upstream, client, true);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    port,
    setMode: (next) => {
      mode = next;
    },
    get resets() {
      return resets;
    },
    dropConnections: () => {
      for (const socket of open) socket.destroy();
      open.clear();
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fresh database reached two ways: `direct`ly, and as `store` through `proxy`. */
export interface StoreBehindFaultProxy {
  /** A connection that bypasses the proxy, to see what really reached the database. */
  readonly direct: ConsentStore;
  readonly proxy: FaultProxy;
  /** A connection through the proxy, with the deadline given. */
  readonly store: ConsentStore;
  /** Closes both connections and the proxy, and drops the database. */
  close(): Promise<void>;
}

/** Opens a fresh database behind a fault proxy (passing traffic), its `store` with deadline `timeoutMs` (logging to `logger` if given). */
export async function aStoreBehindFaultProxy(timeoutMs: number, options: { logger?: Logger } = {}): Promise<StoreBehindFaultProxy> {
  const direct = await aFreshStore();
  let proxy: FaultProxy | undefined;
  try {
    const target = new URL(mongoUri());
    proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
    const store = await anotherConnection(direct, { uri: proxy.uri, timeoutMs, logger: options.logger });
    const opened = proxy;
    return {
      direct,
      proxy: opened,
      store,
      close: async () => {
        await store.close();
        await opened.close();
        await dropStore(direct);
      },
    };
  } catch (error) {
    await proxy?.close();
    await dropStore(direct);
    throw error;
  }
}
