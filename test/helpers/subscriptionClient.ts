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
  const messages: SubscriptionMessage[] = [];
  let completed = false;
  let listeners: Array<() => void> = [];
  const notify = () => {
    for (const listener of listeners) listener();
  };
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (value) => {
        messages.push(value as SubscriptionMessage);
        notify();
      },
      error: (error) => {
        messages.push({ errors: Array.isArray(error) ? error : [{ message: String((error as Error)?.message ?? (error as { reason?: string })?.reason ?? error) }] });
        completed = true;
        notify();
      },
      complete: () => {
        completed = true;
        notify();
      },
    },
  );
  const until = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (done()) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages).slice(0, 2000)}`)), timeoutMs);
      const listener = () => {
        if (!done()) return;
        clearTimeout(timer);
        listeners = listeners.filter((l) => l !== listener);
        resolve();
      };
      listeners.push(listener);
    });
  return {
    messages,
    get completed() {
      return completed;
    },
    waitFor: async (count, timeoutMs = 10_000) => {
      await until(() => messages.length >= count, timeoutMs, `${count} messages`);
      return messages.slice(0, count);
    },
    waitForComplete: (timeoutMs = 10_000) => until(() => completed, timeoutMs, 'completion'),
    close: async () => {
      unsubscribe();
      await client.dispose();
    },
  };
}
