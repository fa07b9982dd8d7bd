import { recordsChange } from '../consent/event.js';
import { BatchIdempotencyConflictError, type IdempotencyConflictError } from '../consent/errors.js';
import type { Change } from '../consent/validate.js';
import type { Collections, EventDoc, TailDoc } from './collections.js';
import { eventFromDoc, headOfState, nextEventDoc, type ChainHead, type PositionedEvent } from './documents.js';
import type { IdempotencyIndex } from './IdempotencyIndex.js';
import type { ProjectionCache } from './ProjectionCache.js';
import { randomUUID } from 'node:crypto';
import { announceCommit, askForTurn } from './projectionVersion.js';
import type { Projector } from './Projector.js';
import { failedIndexes, hasOnlyDuplicateKeys, storeCall } from './storeCall.js';
import { subjectKey } from './subjectKey.js';
import { healLog, isDone, logEvents, readCommit } from './tail.js';

/** What an append recorded, or found already recorded under the same idempotency key. */
export interface Appended extends PositionedEvent {
  /** True when the idempotency key had been used: nothing was written. */
  readonly replayed: boolean;
}

/** One change of a batch, with who makes it and when. */
export interface AppendItem {
  readonly change: Change;
  readonly actor: string;
  readonly now: Date;
}

/** Most events one group commit takes from the queue (a single call of up to 1000 always goes in whole). */
const MAX_ROUND_EVENTS = 1000;

/**
 * How long a round may wait for more changes while they stream in (see `LedgerWriter.gather`). A
 * round's cost is mostly fixed (two inserts and an update on the database, one follow of the log
 * on every replica), so a stream of 200 changes/s committed in rounds of 4 costs the database and
 * the replicas several times what the same stream costs in rounds of 20.
 */
export interface GatherOptions {
  /** Longest wait (ms); 0 never waits. */
  readonly windowMs: number;
  /** Waits only when the recent arrival rate promises at least this many changes in the window. */
  readonly minChanges: number;
}

/** The service's gathering: up to 100 ms, from 40 changes/s. */
export const DEFAULT_GATHER: GatherOptions = { windowMs: 100, minChanges: 4 };

/** Time constant of the arrival rate's moving average (ms). */
const RATE_WINDOW_MS = 250;

/** How long another writer honours a request for a turn (ms), and the gap it leaves (ms). */
const TURN_REQUEST_MS = 250;
const TURN_GAP_MS = 15;

/** Rounds in a row whose gseq collided without the log moving, before the writer heals the log. */
const STALLS_BEFORE_HEALING = 3;

/** Most rounds a change waits through collisions with other replicas' commits before failing. */
const MAX_COLLISION_ROUNDS = 2000;

interface Entry {
  readonly item: AppendItem;
  readonly key: string;
  readonly idem: string | null;
  /** Position in the caller's list. */
  readonly index: number;
  result: Appended | null;
  /** An earlier change of this round with the same key and change: this one replays it. */
  sameAs: Entry | null;
  /** Its key's event is in the ledger but not yet in the log this process follows: wait a round. */
  waitsForLog: boolean;
}

interface Group {
  readonly entries: Entry[];
  /** Refuse the whole group if any change's idempotency key conflicts (changeConsents). */
  readonly atomic: boolean;
  readonly resolve: (results: Appended[]) => void;
  readonly reject: (error: unknown) => void;
  collisions: number;
}

/**
 * The ledger's write path: a group commit. Every change submitted while a commit is under way
 * waits for the next one, which takes them all (up to MAX_ROUND_EVENTS) and:
 *
 * 1. brings the process's copy of the ledger heads to the end of the commit log (one point read
 *    when nothing changed; see ProjectionCache) and checks idempotency keys in memory
 *    (IdempotencyIndex): replays are answered, conflicts refused, before anything is written;
 * 2. builds every event after its subject's head, with gseqs `end + 1 …`, and inserts them into
 *    consent_events in one ordered `insertMany`: that insert is the commit, guarded as before by
 *    the unique indexes on (subject, seq), gseq and idempotency key; the first collision stops it,
 *    the events before it are in, and the rest go round again;
 * 3. inserts the committed events into the commit log (tail.ts), which followers read; changes the
 *    projection's version token once; acknowledges;
 * 4. hands the commits to the Projector, which writes the projection after the acknowledgement.
 *
 * So a round costs one or two small reads, two inserts and one small update however many changes
 * it carries; while a stream of changes flows from concurrent callers, a round first waits briefly
 * to carry more of it (`gather`). The gseq order stays gapless (a writer only inserts gseq
 * `end + 1` after reading `end` in the log or the ledger) and so does the log: a writer whose gseq
 * collides without the log moving puts the other writer's events into the log itself (`healLog`).
 */
export class LedgerWriter {
  private queue: Group[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly collections: Collections,
    private readonly cache: ProjectionCache,
    private readonly idempotency: IdempotencyIndex,
    private readonly projector: Projector,
    /** The head of a subject the cache doesn't know (cache off): read from the database. */
    private readonly readHead: (key: string) => Promise<ChainHead | null>,
    /** This writer's name: in its commits (`by`), its projector's heartbeat and its requests for a turn. */
    readonly id: string = randomUUID(),
    private readonly gathering: GatherOptions = DEFAULT_GATHER,
  ) {}

  /** Rounds committed, and how many of them waited to gather more changes first (for tests). */
  readonly counts = { rounds: 0, gathered: 0 };

  /**
   * Appends a change to the subject's ledger chain as `actor` at `now`. A reused idempotency key
   * returns the first event and writes nothing; the same key with a different change is an
   * IdempotencyConflictError.
   */
  async append(change: Change, actor: string, now: Date): Promise<Appended> {
    const [result] = await this.submit([{ change, actor, now }], false);
    return result!;
  }

  /**
   * Appends changes as one unit of refusal: if any idempotency key conflicts, nothing is written
   * (BatchIdempotencyConflictError names the change). Results in input order; changes to one
   * subject are chained in input order.
   */
  appendMany(items: readonly AppendItem[]): Promise<Appended[]> {
    return this.submit(items, true);
  }

  /** When the writer last had changes queued or a commit under way (monotonic ms; the Projector gives way to it). */
  lastActiveAt(): number {
    return this.draining !== null ? performance.now() : this.idleSince;
  }

  private idleSince = 0;

  // Arrivals: a moving sum of changes submitted (decayed over RATE_WINDOW_MS), and how many
  // changes came while a round was committing, before its results went out (`roundOpen`). A caller
  // that sends its next change only after the answer to the last never counts there. And how many
  // changes the last round took.
  private arrivals = 0;
  private arrivalsAt = 0;
  private roundOpen = false;
  private arrivedDuringRound = 0;
  private lastRoundEvents = 0;
  private wake: { readonly atEvents: number; readonly now: () => void } | null = null;

  private submit(items: readonly AppendItem[], atomic: boolean): Promise<Appended[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<Appended[]>((resolve, reject) => {
      const entries = items.map((item, index) => ({
        item,
        index,
        key: subjectKey(item.change.subject),
        idem: item.change.idempotencyKey === null ? null : JSON.stringify([item.actor, item.change.idempotencyKey]),
        result: null,
        sameAs: null,
        waitsForLog: false,
      }));
      this.queue.push({ entries, atomic, resolve, reject, collisions: 0 });
      const now = performance.now();
      this.arrivals = this.arrivals * Math.exp((this.arrivalsAt - now) / RATE_WINDOW_MS) + entries.length;
      this.arrivalsAt = now;
      if (this.roundOpen) this.arrivedDuringRound += entries.length;
      if (this.wake !== null && this.queuedEvents() >= this.wake.atEvents) this.wake.now();
      this.kick();
    });
  }

  // Starts draining unless a drain runs; one that ends with changes queued meanwhile starts another.
  private kick(): void {
    if (this.draining !== null) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      this.idleSince = performance.now();
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let retrying = false;
    while (this.queue.length > 0) {
      if (!retrying) await this.gather();
      this.arrivedDuringRound = 0;
      const round: Group[] = [];
      let events = 0;
      while (this.queue.length > 0 && (round.length === 0 || events + this.queue[0]!.entries.length <= MAX_ROUND_EVENTS)) {
        const group = this.queue.shift()!;
        round.push(group);
        events += group.entries.length;
      }
      let unfinished: Group[];
      this.lastRoundEvents = events;
      this.roundOpen = true;
      this.counts.rounds++;
      try {
        unfinished = await storeCall(() => this.commitRound(round));
      } catch (error) {
        this.roundOpen = false;
        for (const group of round) group.reject(error);
        retrying = false;
        continue;
      }
      // (commitRound ends in `finish`, which closed the round before answering.)
      retrying = unfinished.length > 0;
      // Groups that lost a race with another replica go first in the next round.
      for (const group of unfinished) {
        if (++group.collisions > MAX_COLLISION_ROUNDS) group.reject(new Error(`append gave up after ${MAX_COLLISION_ROUNDS} collisions with other writers`));
        else this.queue.unshift(group);
      }
      if (unfinished.length > 0) await backoff(unfinished[0]!.collisions);
    }
  }

  /**
   * Before a round: when changes came in while the last round was committing (concurrent callers)
   * and the recent rate promises at least `minChanges` more within the window, waits until the
   * queue holds what that rate brings in the window (at most as many as the last round took plus
   * those that came during it), or the window ends. So a lone caller, or one that waits for each
   * answer before sending the next (an import), is never held; a stream from many callers is
   * committed in fewer, larger rounds, each change waiting at most the window.
   */
  private async gather(): Promise<void> {
    const { windowMs, minChanges } = this.gathering;
    if (windowMs <= 0 || this.arrivedDuringRound === 0) return;
    const ratePerMs = (this.arrivals * Math.exp((this.arrivalsAt - performance.now()) / RATE_WINDOW_MS)) / RATE_WINDOW_MS;
    // No more than the callers known to be about: those the last round answered and those that
    // came meanwhile. A fixed set of callers each waiting for its answer (a closed loop) can queue
    // no more than that, however high the rate.
    const expected = Math.min(MAX_ROUND_EVENTS, Math.floor(ratePerMs * windowMs), this.lastRoundEvents + this.arrivedDuringRound);
    if (expected < minChanges || this.queuedEvents() >= expected) return;
    this.counts.gathered++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake?.now(), windowMs);
      this.wake = {
        atEvents: expected,
        now: () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        },
      };
    });
  }

  private queuedEvents(): number {
    let events = 0;
    for (const group of this.queue) events += group.entries.length;
    return events;
  }

  // Subjects whose head in the cache proved stale (an insert collided on their next seq): read
  // from the ledger next round. And how many rounds in a row collided on a gseq the log did not
  // explain (another writer between its two inserts, or one that died there).
  private readonly suspects = new Set<string>();
  private stalls = 0;

  // One group commit. Returns the groups with changes still to write (the ledger moved on under them).
  private async commitRound(round: Group[]): Promise<Group[]> {
    await this.cache.prepareWrite();
    // Another writer keeps losing the next gseq to this one's back-to-back rounds: leave it a gap.
    const waiting = this.cache.lastVersion?.waiting;
    if (waiting !== undefined && waiting.by !== this.id && Date.now() - waiting.at.getTime() < TURN_REQUEST_MS) {
      await new Promise((resolve) => setTimeout(resolve, TURN_GAP_MS));
      await this.cache.prepareWrite();
    }
    if (this.stalls >= STALLS_BEFORE_HEALING) {
      await this.healLog();
      this.stalls = 0;
    }
    let live = round;
    if (round.some((group) => group.entries.some((entry) => entry.result === null && entry.idem !== null))) {
      await this.idempotency.ensureLoaded();
      live = await this.answerReplays(round);
    }
    const pending = live.flatMap((group) => group.entries.filter((entry) => entry.result === null && entry.sameAs === null && !entry.waitsForLog).map((entry) => ({ group, entry })));
    if (pending.length === 0) return this.finish(live);

    // Heads: from the cache. With the cache off, a subject it has not seen in the log is taken to
    // be new (an insert of `<key>#1` collides if it is not); subjects whose head proved wrong are
    // read from the ledger.
    const heads = new Map<string, ChainHead | null>();
    const unknown = [...new Set(pending.map(({ entry }) => entry.key))].filter((key) => {
      if (this.suspects.has(key)) return true;
      const head = this.cache.headOf(key) ?? this.cache.logHeadOf(key) ?? null;
      heads.set(key, head === null ? null : headOfState(head));
      return false;
    });
    await Promise.all(
      unknown.map(async (key) => {
        const [fromDb, hint] = [await this.readHead(key), this.cache.logHeadOf(key) ?? this.cache.headOf(key) ?? undefined];
        heads.set(key, hint !== undefined && (fromDb === null || hint.seq > fromDb.seq) ? headOfState(hint) : fromDb);
        this.suspects.delete(key);
      }),
    );

    const end = this.cache.end;
    const docs: EventDoc[] = [];
    for (const { entry } of pending) {
      const doc = nextEventDoc(entry.item.change, entry.key, entry.item.actor, entry.item.now, heads.get(entry.key) ?? null, end + docs.length, entry.idem);
      heads.set(entry.key, doc);
      docs.push(doc);
    }
    // The commit: one ordered insert, stopped by the unique indexes at the first event another
    // writer got to first (its gseq, its subject's seq or its key); those before it are in.
    let done = docs;
    let collided: EventDoc | null = null;
    try {
      await this.collections.events.insertMany(docs, { ordered: true });
    } catch (error) {
      if (!hasOnlyDuplicateKeys(error)) throw error;
      const index = failedIndexes(error)[0] ?? 0;
      done = docs.slice(0, index);
      collided = docs[index]!;
    }
    if (done.length > 0) {
      // Into the log before acknowledging: what followers (caches, other writers) read.
      const logged = await logEvents(this.collections, done, this.id);
      const end = logged.at(-1)!.last;
      this.cache.applyCommits(logged);
      await announceCommit(this.collections, this.id, end);
      this.cache.announced(end);
      this.projector.enqueue(logged);
      this.stalls = 0;
    }
    for (let i = 0; i < done.length; i++) pending[i]!.entry.result = { event: eventFromDoc(done[i]!), gseq: done[i]!.gseq, replayed: false };
    if (collided !== null) {
      this.cache.distrustOwnAnnouncement();
      // Its subject's seq taken (a head the cache did not have): read that head next round.
      // Otherwise its gseq (or key): the next round follows the log; if the log does not move, the
      // other writer is between its two inserts, or died there, and after a few rounds this one
      // puts those events into the log itself.
      if ((await this.collections.events.findOne({ _id: collided._id }, { projection: { _id: 1 } })) !== null) this.suspects.add(collided.subject);
      else if (done.length === 0) {
        this.stalls++;
        await askForTurn(this.collections, this.id);
      }
    }
    return this.finish(live);
  }

  // Events in the ledger after the log's end that no commit lists (their writer died between its
  // two inserts, or wrote around the log): put them into the log, in order, so followers see them.
  private async healLog(): Promise<void> {
    const logged = await healLog(this.collections, this.cache.end);
    if (logged.length === 0) return;
    this.cache.applyCommits(logged);
    await announceCommit(this.collections, this.id, logged.at(-1)!.last);
    this.projector.enqueue(logged);
  }

  // Resolves the groups whose every change is written; returns the others.
  private finish(live: Group[]): Group[] {
    // Callers answered now may send again at once: that is not concurrency (see `gather`).
    this.roundOpen = false;
    const unfinished: Group[] = [];
    for (const group of live) {
      for (const entry of group.entries) {
        if (entry.sameAs?.result != null) entry.result = { ...entry.sameAs.result, replayed: true };
        entry.sameAs = null;
        entry.waitsForLog = false;
      }
      if (group.entries.every((entry) => entry.result !== null)) group.resolve(group.entries.map((entry) => entry.result!));
      else unfinished.push(group);
    }
    return unfinished;
  }

  // Answers the changes whose key is already in the ledger; refuses conflicting ones (a whole
  // group when atomic). Returns the groups still to write. A key used twice in one round counts
  // as written by the first use.
  private async answerReplays(round: Group[]): Promise<Group[]> {
    const live: Group[] = [];
    const inRound = new Map<string, Entry>();
    for (const group of round) {
      let conflict: IdempotencyConflictError | null = null;
      const replays: { entry: Entry; id: string; commit: number | null }[] = [];
      for (const entry of group.entries) {
        if (entry.result !== null || entry.idem === null) continue;
        const earlier = inRound.get(entry.idem);
        const found = this.idempotency.get(entry.idem);
        if (found !== undefined) replays.push({ entry, id: found.id, commit: found.commit });
        else if (earlier === undefined) inRound.set(entry.idem, entry);
        else if (sameChange(earlier.item.change, entry.item.change)) entry.sameAs = earlier;
        else conflict ??= conflictOf(entry, 'an earlier change in this batch');
      }
      const events = await this.readEvents(replays);
      for (const { entry, id } of replays) {
        const doc = events.get(id);
        if (doc === undefined) throw new Error(`the event ${id} recorded under an idempotency key is in neither consent_events nor the commit log`);
        const event = eventFromDoc(doc);
        if (!recordsChange(event, entry.item.change)) conflict ??= conflictOf(entry, `event ${id}`);
        else if (doc.gseq > this.cache.end) {
          // Its writer is between its two inserts (or died there): answering now would acknowledge
          // an event followers cannot see yet. Wait for the log (healed after a few rounds).
          entry.waitsForLog = true;
          this.stalls++;
          this.cache.distrustOwnAnnouncement();
        } else entry.result = { event, gseq: doc.gseq, replayed: true };
      }
      if (conflict !== null) {
        // Nothing of the group is written: a single change, or a batch refused as a whole.
        for (const entry of group.entries) if (entry.idem !== null && inRound.get(entry.idem) === entry) inRound.delete(entry.idem);
        group.reject(conflict);
        continue;
      }
      live.push(group);
    }
    return live;
  }

  // Events by id. One whose commit is still in the log comes from there, and if that commit is not
  // done (its writer failed or died after committing) the retry finishes it: the events go into
  // consent_events and the commit to the projector.
  private async readEvents(wanted: readonly { id: string; commit: number | null }[]): Promise<Map<string, EventDoc>> {
    const found = new Map<string, EventDoc>();
    const commits = new Map<number, Promise<TailDoc | null>>();
    await Promise.all(
      wanted.map(async ({ id, commit }) => {
        if (commit !== null) {
          if (!commits.has(commit)) commits.set(commit, this.finishCommit(commit));
          const inLog = (await commits.get(commit))?.events.find((e) => e._id === id);
          if (inLog !== undefined) {
            found.set(id, inLog);
            return;
          }
        }
        const doc = await this.collections.events.findOne({ _id: id });
        if (doc !== null) found.set(id, doc);
      }),
    );
    return found;
  }

  private async finishCommit(first: number): Promise<TailDoc | null> {
    const commit = await readCommit(this.collections, first);
    // Its events are in consent_events (they go in before the commit is logged); its projection may not be.
    if (commit !== null && !(await isDone(this.collections, commit))) this.projector.enqueue([commit]);
    return commit;
  }

}

function sameChange(a: Change, b: Change): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function conflictOf(entry: Entry, what: string): BatchIdempotencyConflictError {
  return new BatchIdempotencyConflictError(
    `idempotencyKey ${JSON.stringify(entry.item.change.idempotencyKey)} was already used for a different change (${what}); use a new key for a new change`,
    entry.index,
  );
}

function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(2 ** Math.min(attempt, 6), 50);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
