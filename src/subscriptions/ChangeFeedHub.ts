import { encodeCursor } from '../consent/cursor.js';
import type { ConsentEvent } from '../consent/event.js';
import { FeedStreamEndedError } from '../errors.js';
import type { PositionedEvent } from '../store/documents.js';
import type { EventPage } from '../store/history.js';

/** The reads the hub makes: the change feed and its head (a ConsentStore has both). */
export interface FeedSource {
  changesAfter(afterGseq: number, first: number): Promise<EventPage<PositionedEvent>>;
  latestGseq(): Promise<number>;
}

/** Tuning of a {@link ChangeFeedHub}. */
export interface ChangeFeedHubOptions {
  /** How long the poller sleeps when it has read everything committed, in ms. @default 200 */
  readonly idleMs?: number;
  /** Most events one subscriber may have waiting; one more ends it with SUBSCRIBER_TOO_SLOW. @default 1000 */
  readonly bufferSize?: number;
  /** Events per change-feed read. @default 500 */
  readonly pageSize?: number;
}

/** What a subscription yields: the next event, or once, at its end, why it ended early. */
export type FeedItem = PositionedEvent | FeedStreamEndedError;

/**
 * The change feed pushed to subscribers: one poller per process follows the gapless gseq order
 * (so writes made by any replica reach every subscriber), and each subscriber catches up from its
 * own cursor with its own reads before it joins the live stream, with a bounded buffer.
 */
export class ChangeFeedHub {
  private readonly idleMs: number;
  readonly bufferSize: number;
  private readonly pageSize: number;
  private readonly subscribers = new Set<FeedSubscriber>();
  // The last position the poller has handed to live subscribers; null while nobody listens.
  private head: number | null = null;
  private starting: Promise<number> | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  private polling = false;
  /** How many change-feed reads the poller has made (tests check there is one poller, not one per subscriber). */
  pollCount = 0;

  constructor(
    private readonly source: FeedSource,
    options: ChangeFeedHubOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 200;
    this.bufferSize = options.bufferSize ?? 1000;
    this.pageSize = options.pageSize ?? 500;
  }

  /** How many subscriptions are open. */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Opens a subscription after feed position `after` (null: from the current head on) that yields
   * the events `accept` keeps, in gseq order; throws StoreUnavailableError when the head can't be read.
   */
  async subscribe(after: number | null, accept: (event: ConsentEvent) => boolean): Promise<AsyncIterableIterator<FeedItem>> {
    if (this.closed) throw new Error('The change feed hub is closed.');
    const head = await this.start();
    const subscriber = new FeedSubscriber(this, after ?? head, accept);
    this.subscribers.add(subscriber);
    // Started only once someone is there to hear it: a poller started earlier would find nobody
    // and stop at once, leaving every subscriber to read the feed by itself.
    if (!this.polling) {
      this.polling = true;
      this.head ??= head;
      void this.poll();
    }
    return subscriber;
  }

  /** Ends every subscription and stops the poller. */
  close(): void {
    this.closed = true;
    for (const subscriber of this.subscribers) subscriber.end();
    this.subscribers.clear();
    this.wake?.();
  }

  /** @internal The source the hub reads (the push bench times its reads). */
  get feed(): FeedSource {
    return this.source;
  }

  /**
   * @internal A subscriber's catch-up read after `position`. Subscribers that join together from the
   * same cursor share one read in flight, so a crowd reconnecting after an outage is one read, not
   * one per subscriber.
   */
  readAfter(position: number): Promise<EventPage<PositionedEvent>> {
    let read = this.catchUpReads.get(position);
    if (read === undefined) {
      read = this.source.changesAfter(position, this.pageSize).finally(() => this.catchUpReads.delete(position));
      this.catchUpReads.set(position, read);
    }
    return read;
  }

  private readonly catchUpReads = new Map<number, Promise<EventPage<PositionedEvent>>>();

  /** @internal The poller's position, or null when it is not running. */
  get position(): number | null {
    return this.head;
  }

  /** @internal */
  remove(subscriber: FeedSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  // The poller's position while it runs; otherwise the head, read once for everyone arriving together.
  private start(): Promise<number> {
    if (this.polling && this.head !== null) return Promise.resolve(this.head);
    this.starting ??= this.source.latestGseq().then(
      (head) => {
        this.starting = null;
        // A poller started meanwhile has its own, later position; otherwise start from this head.
        if (!this.polling) this.head = head;
        return head;
      },
      (error: unknown) => {
        this.starting = null;
        throw error;
      },
    );
    return this.starting;
  }

  private async poll(): Promise<void> {
    while (!this.closed && this.head !== null) {
      // Stopped when the last subscriber leaves (its next open re-reads the head), so an idle
      // process makes no reads.
      if (this.subscribers.size === 0) {
        this.head = null;
        this.polling = false;
        return;
      }
      let page: EventPage<PositionedEvent>;
      try {
        this.pollCount++;
        page = await this.source.changesAfter(this.head, this.pageSize);
      } catch {
        // Live subscribers can't be told what they missed: each ends with its own resume cursor.
        for (const subscriber of this.subscribers) if (subscriber.live) subscriber.fail('SERVICE_UNAVAILABLE', 'The change feed stopped because the consent store did not answer; resubscribe with extensions.cursor as after.');
        await this.sleep();
        continue;
      }
      for (const positioned of page.events) {
        this.head = positioned.gseq;
        for (const subscriber of this.subscribers) if (subscriber.live) subscriber.push(positioned);
      }
      if (!page.hasNextPage) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.idleMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}

// One subscription: catches up with its own reads, then takes events from the hub's poller.
class FeedSubscriber implements AsyncIterableIterator<FeedItem> {
  live = false;
  private readonly buffer: PositionedEvent[] = [];
  private failure: FeedStreamEndedError | null = null;
  private finished = false;
  private waiter: (() => void) | null = null;

  constructor(
    private readonly hub: ChangeFeedHub,
    // The last position taken off the buffer (delivered or filtered out): the resume point.
    private position: number,
    private readonly accept: (event: ConsentEvent) => boolean,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<FeedItem> {
    return this;
  }

  async next(): Promise<IteratorResult<FeedItem>> {
    for (;;) {
      if (this.finished) return { done: true, value: undefined };
      if (this.failure !== null) {
        const failure = this.failure;
        this.end();
        return { done: false, value: failure };
      }
      const positioned = this.buffer.shift();
      if (positioned !== undefined) {
        if (positioned.gseq <= this.position) continue;
        this.position = positioned.gseq;
        if (this.accept(positioned.event)) return { done: false, value: positioned };
        continue;
      }
      if (!this.live) await this.catchUp();
      else await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  async return(): Promise<IteratorResult<FeedItem>> {
    this.end();
    return { done: true, value: undefined };
  }

  /** Called by the poller for each new event while live. */
  push(positioned: PositionedEvent): void {
    if (this.finished || this.failure !== null) return;
    if (this.buffer.length >= this.hub.bufferSize) {
      this.fail('SUBSCRIBER_TOO_SLOW', `This subscriber fell more than ${this.hub.bufferSize} events behind and was closed; resubscribe with extensions.cursor as after.`);
      return;
    }
    this.buffer.push(positioned);
    this.wakeUp();
  }

  /** Ends the stream with an error carrying the cursor of the last event taken (nothing after it is lost). */
  fail(code: FeedStreamEndedError['code'], message: string): void {
    if (this.finished || this.failure !== null) return;
    this.buffer.length = 0;
    this.live = false;
    this.hub.remove(this);
    this.failure = new FeedStreamEndedError(code, encodeCursor('feed', this.position), message);
    this.wakeUp();
  }

  end(): void {
    this.finished = true;
    this.live = false;
    this.buffer.length = 0;
    this.hub.remove(this);
    this.wakeUp();
  }

  // Reads from its own position until it reaches the poller's, then joins the live stream. Both
  // happen in one turn of the event loop, so no event falls between them.
  private async catchUp(): Promise<void> {
    // At the poller's position already (a subscription "from now"): every later event is still to
    // be pushed by the poller, so joining now misses nothing and costs no read.
    if (this.buffer.length === 0 && this.hub.position === this.position) {
      this.live = true;
      return;
    }
    let page: EventPage<PositionedEvent>;
    try {
      page = await this.hub.readAfter(this.position);
    } catch {
      this.fail('SERVICE_UNAVAILABLE', 'The change feed stopped because the consent store did not answer; resubscribe with extensions.cursor as after.');
      return;
    }
    if (this.finished || this.failure !== null) return;
    this.buffer.push(...page.events);
    const last = page.events.at(-1)?.gseq ?? this.position;
    const head = this.hub.position;
    if (!page.hasNextPage && head !== null && last >= head) {
      this.live = true;
      return;
    }
    // An empty page with more to come is an event still committing: give it a moment.
    if (page.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  private wakeUp(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
