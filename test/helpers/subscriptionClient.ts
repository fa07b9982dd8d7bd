import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** One message a subscription delivered: a result, or the protocol-level errors it was refused with. */
export interface SubscriptionMessage {
  data?: any;
  errors?: Array<{ message: string; extensions?: { code?: string; cursor?: string } }>;
}

/** An open subscription whose messages a test reads in order. */
export interface OpenSubscription {
  readonly messages: SubscriptionMessage[];
  /** True once the server completed the stream (or refused it). */
  readonly completed: boolean;
  /** Resolves once `count` messages have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SubscriptionMessage[]>;
  /** Resolves once the server has completed the stream. */
  waitForComplete(timeoutMs?: number): Promise<void>;
  /** Unsubscribes and closes the connection. */
  close(): Promise<void>;
}

/** Options for {@link subscribe}. */
export interface SubscribeOptions {
  /** Sent as `connectionParams.authorization` ("Bearer <token>"). */
  token?: string;
  /** Sent as the upgrade request's Authorization header instead. */
  headerToken?: string;
}

/** Subscribes over graphql-ws to `url` (http:// is switched to ws://), one connection per subscription. */
export function subscribe(url: string, query: string, variables: Record<string, unknown> = {}, options: SubscribeOptions = {}): OpenSubscription {
  const client: Client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, options.headerToken ? { headers: { authorization: `Bearer ${options.headerToken}` } } : {});
      }
    },
    connectionParams: options.token ? { authorization: `Bearer ${options.token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
  const stream = collectMessages(async () => {
    unsubscribe();
    await client.dispose();
  });
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (value) => stream.push(value as SubscriptionMessage),
      error: (error) => {
        stream.push({ errors: Array.isArray(error) ? error : [{ message: String((error as Error)?.message ?? (error as { reason?: string })?.reason ?? error) }] });
        stream.complete();
      },
      complete: () => stream.complete(),
    },
  );
  return stream.subscription;
}

/**
 * Subscribes over Server-Sent Events (GraphQL over SSE, single-connection-free mode) at `url`, as a
 * client of the gateway would; `close` aborts the request.
 */
export function subscribeSse(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): OpenSubscription {
  const abort = new AbortController();
  const stream = collectMessages(async () => {
    abort.abort();
    await reading;
  });
  const reading = (async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    if (!response.headers.get('content-type')?.includes('text/event-stream')) {
      stream.push((await response.json()) as SubscriptionMessage);
      stream.complete();
      return;
    }
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: *(.*)$/m.exec(block)?.[1];
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
        if (event === 'complete') stream.complete();
        else if (data !== '') stream.push(JSON.parse(data) as SubscriptionMessage);
      }
    }
    stream.complete();
  })().catch(() => stream.complete());
  return stream.subscription;
}

// The messages of one subscription and the waits on them, whatever carries them; `close` ends the transport.
function collectMessages(close: () => Promise<void>): { subscription: OpenSubscription; push(message: SubscriptionMessage): void; complete(): void } {
  const messages: SubscriptionMessage[] = [];
  let completed = false;
  let listeners: Array<() => void> = [];
  const notify = () => {
    for (const listener of listeners) listener();
  };
  const until = (done: () => boolean, timeoutMs: number, what: string) =>
    waitUntil(done, timeoutMs, () => `${what}; got ${JSON.stringify(messages).slice(0, 2000)}`, (listener) => {
      listeners.push(listener);
      return () => (listeners = listeners.filter((l) => l !== listener));
    });
  return {
    subscription: {
      messages,
      get completed() {
        return completed;
      },
      waitFor: async (count, timeoutMs = 10_000) => {
        await until(() => messages.length >= count, timeoutMs, `${count} messages`);
        return messages.slice(0, count);
      },
      waitForComplete: (timeoutMs = 10_000) => until(() => completed, timeoutMs, 'completion'),
      close,
    },
    push(message) {
      messages.push(message);
      notify();
    },
    complete() {
      completed = true;
      notify();
    },
  };
}

// Resolves once `done()` holds, checked whenever a listener registered with `listen` fires.
function waitUntil(done: () => boolean, timeoutMs: number, what: () => string, listen: (listener: () => void) => () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (done()) return resolve();
    const unlisten = listen(() => {
      if (!done()) return;
      clearTimeout(timer);
      unlisten();
      resolve();
    });
    const timer = setTimeout(() => {
      unlisten();
      reject(new Error(`timed out waiting for ${what()}`));
    }, timeoutMs);
  });
}
