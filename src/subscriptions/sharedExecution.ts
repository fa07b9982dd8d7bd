import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { createSourceEventStream, execute, Kind, print, visit, type ExecutionArgs, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import { WebSocket } from 'ws';
import { visibleActor } from '../auth/authorize.js';
import type { RequestContext } from '../context.js';
import type { PositionedEvent } from '../store/documents.js';

/**
 * One execution per event for every subscriber who would get the same answer.
 *
 * graphql-js executes a subscription's selection set once per event per subscriber, and graphql-ws
 * serialises each result once per subscriber. But an event's result depends only on the operation
 * (its selection set, and the variables that selection set reads) and on what the caller may see:
 * the `actor` of a ConsentEvent (its `visibleActor`) and the scope checks of guarded fields. So the
 * result is computed once per (event, operation key, visibility class), kept with the event object
 * (which the hub hands to every subscriber) and reused; its JSON is made once too and spliced into
 * each subscriber's `next` message (see {@link SharedPayloadWebSocket}).
 *
 * The root field's arguments (`after`, `purposes`) are not part of the key: they choose which events
 * a subscriber gets (applied per subscriber by the hub), not what an event's result holds. Early ends
 * (SUBSCRIBER_TOO_SLOW, SERVICE_UNAVAILABLE) carry the subscriber's own cursor and are never shared.
 *
 * The fields of ConsentEvent whose value depends on the caller are exactly the ones named in
 * {@link CALLER_DEPENDENT_EVENT_FIELDS}; test/unit/sharedExecution.test.ts fails when ConsentEvent
 * gains a field, so whoever adds one decides whether the visibility class must grow.
 */
export const CALLER_DEPENDENT_EVENT_FIELDS = ['actor'] as const;

// The result shared by subscribers of one class, per event object; dropped with the event.
const resultsByEvent = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
// A shared (error-free) result and, once made, its JSON.
const sharedJson = new WeakMap<object, { json: string | null }>();

/** The operation key of a subscription: printed selection (root arguments stripped) and the variables it still reads. */
export function operationKey(args: Pick<ExecutionArgs, 'document' | 'operationName' | 'variableValues'>): string {
  const operation = args.document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (args.operationName == null || d.name?.value === args.operationName),
  );
  const rootFields = new Set(operation?.selectionSet.selections.filter((s) => s.kind === Kind.FIELD) ?? []);
  const stripped = visit(args.document, {
    Field: (node) => (rootFields.has(node) && (node.arguments?.length ?? 0) > 0 ? { ...node, arguments: [] } : undefined),
  });
  const read = new Set<string>();
  visit(stripped, {
    VariableDefinition: () => false,
    Variable: (node) => {
      read.add(node.name.value);
    },
  });
  const values = args.variableValues ?? {};
  const variables = [...read].sort().map((name) => [name, values[name] ?? null]);
  return JSON.stringify([print(stripped), args.operationName ?? null, variables]);
}

function scopesOf(context: RequestContext): string {
  const { caller } = context;
  return caller.kind === 'principal' ? `principal:${[...caller.principal.scopes].sort().join(' ')}` : caller.kind;
}

const isEvent = (item: unknown): item is PositionedEvent => typeof item === 'object' && item !== null && !(item instanceof Error) && 'gseq' in item && 'event' in item;

/**
 * graphql-js `subscribe`, except that each event's result is executed once per operation key and
 * visibility class and shared. Same source stream (the root field's `subscribe`, with its scope
 * check, arguments and filters, per subscriber); same errors.
 */
export async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
  const source = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const context = args.contextValue as RequestContext;
  // The two keys this subscriber's results can have, made once: what the caller may see of an event
  // is its scopes (guarded fields) and whether it sees the event's actor (visibleActor).
  const key = `${operationKey(args)}|${scopesOf(context)}`;
  const [actorShown, actorHidden] = [`${key}|actor`, `${key}|-`];
  const resultOf = (item: unknown): ExecutionResult | Promise<ExecutionResult> => {
    if (!isEvent(item)) return execute({ ...args, rootValue: item });
    const classKey = visibleActor(context.caller, item.event.actor) === null ? actorHidden : actorShown;
    let results = resultsByEvent.get(item);
    if (results === undefined) resultsByEvent.set(item, (results = new Map()));
    let result = results.get(classKey);
    if (result === undefined) {
      result = execute({ ...args, rootValue: item });
      const share = (done: ExecutionResult) => {
        if (done.errors === undefined) sharedJson.set(done, { json: null });
        else results!.delete(classKey); // errors are masked per subscriber: nothing shared
        return done;
      };
      result = result instanceof Promise ? result.then(share) : share(result);
      results.set(classKey, result);
    }
    return result;
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    // One promise reaction per event (not an async function's), as this runs once per delivery.
    next: () =>
      source.next().then((step): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
        if (step.done === true) return { done: true, value: undefined };
        const result = resultOf(step.value);
        return result instanceof Promise ? result.then((value) => ({ done: false, value })) : { done: false, value: result };
      }),
    return: async () => {
      await source.return?.();
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      await source.return?.();
      throw error;
    },
  };
  return iterator;
}

/** True for a result shared by several subscribers (send it as is: it is serialised once). */
export function isSharedResult(result: object): boolean {
  return sharedJson.has(result);
}

// The marker a shared payload is serialised as, spliced out by the socket; random per process, so a
// client can't forge it (and it is matched only at the end of a message, after the client's id).
const MARKER = `shared-payload-${randomUUID()}`;
const MARKER_TAIL = `"payload":"${MARKER}"}`;
// The JSON of the shared payload in the message being serialised: graphql-ws stringifies a message and
// hands it to the socket in one synchronous step, so the socket's send takes the one the replacer left.
let pendingJson: string | null = null;

/** graphql-ws's `jsonMessageReplacer`: a shared payload becomes the marker, its JSON made once. */
export function sharedPayloadReplacer(this: unknown, key: string, value: unknown): unknown {
  if (key !== 'payload' || typeof value !== 'object' || value === null) return value;
  const entry = sharedJson.get(value);
  if (entry === undefined) return value;
  entry.json ??= JSON.stringify(value);
  pendingJson = entry.json;
  return MARKER;
}

// Messages a subscriber may have waiting in its socket's buffer before its next send is
// acknowledged only once written: bounded, so a client that stops reading still stalls its
// subscription and fills the hub's buffer (SUBSCRIBER_TOO_SLOW) instead of this process's memory.
const UNWRITTEN_BYTES = 16 * 1024;
// Sockets corked in this turn of the event loop, uncorked together once every subscriber has sent.
const corked = new Set<Duplex>();
let flushing = false;
function uncorkAll(): void {
  flushing = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/**
 * The server's sockets. A message carrying the marker gets the shared payload's JSON in its place.
 * And the messages sent to one socket in one turn of the event loop (one event each, for every
 * event the poller handed out at once) leave in one write: the TCP socket is corked at the first
 * and uncorked after the turn (setImmediate), and a send is acknowledged at once while little is
 * unwritten, so graphql-ws goes on to the subscriber's next event instead of waiting a write per
 * event. A write per message (a system call on a loopback or network socket each) was most of the
 * CPU a delivery cost.
 */
export class SharedPayloadWebSocket extends WebSocket {
  /** The upgraded TCP socket, set by serveSubscriptions; null: plain ws behaviour. */
  raw: Duplex | null = null;

  override send(data: unknown, options?: unknown, cb?: (error?: Error) => void): void {
    if (typeof options === 'function') {
      cb = options as (error?: Error) => void;
      options = undefined;
    }
    if (pendingJson !== null && typeof data === 'string' && data.endsWith(MARKER_TAIL)) {
      data = `${data.slice(0, -MARKER_TAIL.length)}"payload":${pendingJson}}`;
      pendingJson = null;
    }
    const send = super.send.bind(this) as (data: unknown, options: unknown, cb?: (error?: Error) => void) => void;
    const raw = this.raw;
    if (raw === null || this.readyState !== WebSocket.OPEN) return send(data, options, cb);
    if (!corked.has(raw)) {
      raw.cork();
      corked.add(raw);
      if (!flushing) {
        flushing = true;
        setImmediate(uncorkAll);
      }
    }
    if (cb === undefined || this.bufferedAmount >= UNWRITTEN_BYTES) return send(data, options, cb);
    send(data, options);
    cb();
  }
}
