import { assertCanManage, requirePrincipal, visibleActor } from './auth/authorize.js';
import type { Caller } from './auth/Principal.js';
import { decodeArtistCursor, decodeNumericCursor, encodeCursor, parseFirst } from './consent/cursor.js';
import type { Decider, Decision, StatementsInForce } from './consent/decide.js';
import { InvalidInputError } from './consent/errors.js';
import type { ConsentEvent } from './consent/event.js';
import type { Purpose } from './consent/purposes.js';
import { signalsOf, type ConsentSignals } from './consent/signals.js';
import type { Statement, Subject } from './consent/statement.js';
import { parseAsOf, parseClearChange, parseSetChange, parseSubject, type Change } from './consent/validate.js';
import type { Loaders } from './loaders.js';
import type { DecisionTally } from './observability/DecisionTally.js';
import type { ConsentStore } from './store/ConsentStore.js';
import type { EventPage } from './store/history.js';
import { subjectKey } from './store/subjectKey.js';

/** Most requests one `consentDecisions` call answers. */
export const MAX_DECISION_REQUESTS = 1000;
/** Most events one page of the change feed may ask for. */
export const MAX_FEED_PAGE = 1000;
/** Most artists one page of `artistsAllowing` may ask for. */
export const MAX_ARTIST_PAGE = 1000;
/** Most events one page of a subject's history may ask for. */
export const MAX_HISTORY_PAGE = 100;

/** What a `Consent` object resolves from: the statements that may decide, and the instant to decide at. */
export interface ConsentView {
  readonly statements: StatementsInForce;
  readonly at: Date;
}

/** A page of ledger events as the `ConsentEventConnection` type. */
export interface ConsentEventConnection {
  readonly edges: ReadonlyArray<{ readonly cursor: string; readonly node: ConsentEvent }>;
  readonly pageInfo: PageInfo;
}

/** A page of artists as the `ArtistConnection` type. */
export interface ArtistConnection {
  readonly edges: ReadonlyArray<{ readonly cursor: string; readonly node: { readonly id: string } }>;
  readonly pageInfo: PageInfo;
}

/** Where a page ends, as the `PageInfo` type. */
export interface PageInfo {
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

/** A page request as GraphQL passes it (the schema supplies `first`'s default). */
export interface PageArgs {
  readonly first: number;
  readonly after?: string | null;
}

/** What a change returns, as the `ConsentChangePayload` type. */
export interface ConsentChangePayload {
  readonly event: ConsentEvent;
  readonly revision: string;
  readonly decision: Decision;
}

/** The input of `setConsent`, typed by the schema; ids, texts and the expiry are checked by the core. */
export type SetConsentInput = Parameters<typeof parseSetChange>[0];
/** The input of `clearConsent`, typed by the schema. */
export type ClearConsentInput = Parameters<typeof parseClearChange>[0];

/** A subject as GraphQL passes it (`ConsentSubjectInput`, `DecisionRequest`); its ids are checked by the core. */
export interface SubjectInput {
  readonly artistId: string;
  readonly trackId?: string | null;
}

/** What one request's service is built from. */
export interface ConsentServiceDeps {
  readonly store: ConsentStore;
  readonly decider: Decider;
  readonly loaders: Loaders;
  readonly caller: Caller;
  readonly now: Date;
  readonly tally: DecisionTally;
}

/**
 * Everything the resolvers ask of the subgraph, for one request: arguments are validated before
 * any read, reads go through the request's loaders, and every decision returned is counted.
 */
export class ConsentService {
  constructor(private readonly deps: ConsentServiceDeps) {}

  /**
   * The subject's consent as of `asOf`: the statements it had then, read from the ledger and judged
   * (expiry included) at `asOf`; without `asOf`, the current projection at the request's instant.
   * All subjects asked about at one instant in one request share one ledger read.
   */
  consent(subject: Subject, asOf?: Date | null): Promise<ConsentView> {
    if (asOf === null || asOf === undefined) return viewFrom((key) => this.deps.loaders.stateByKey.load(key), subject, this.deps.now);
    const at = parseAsOf(asOf, this.deps.now);
    const loader = this.deps.loaders.stateAt(at);
    return viewFrom((key) => loader.load(key), subject, at);
  }

  /** The decision of one purpose over a view. */
  decide(view: ConsentView, purpose: Purpose): Decision {
    return this.deps.tally.count(this.deps.decider.decide(purpose, view.statements, view.at));
  }

  /** The decisions of every purpose over a view. */
  decideAll(view: ConsentView): Decision[] {
    return this.deps.tally.count(this.deps.decider.decideAll(view.statements, view.at));
  }

  /** A view's decisions in the public vocabularies (not counted: they repeat `decideAll`). */
  signals(view: ConsentView): ConsentSignals {
    return signalsOf(this.deps.decider.decideAll(view.statements, view.at));
  }

  /** Decides one purpose for each request at one instant; all subjects go through one loader batch: one database read. */
  async decideMany(requests: readonly SubjectInput[], purpose: Purpose, asOf?: Date | null): Promise<Decision[]> {
    if (requests.length > MAX_DECISION_REQUESTS) {
      throw new InvalidInputError(
        `consentDecisions takes at most ${MAX_DECISION_REQUESTS} requests per call, but got ${requests.length}; split the list.`,
        'requests',
      );
    }
    const subjects = requests.map((request, index) => parseSubject(request, `requests[${index}]`));
    const views = await Promise.all(subjects.map((subject) => this.consent(subject, asOf)));
    return views.map((view) => this.decide(view, purpose));
  }

  /**
   * One page of a subject's ledger history, newest first. Arguments are validated before any read;
   * every history asked for in one request shares one ledger read.
   */
  async history(subject: Subject, args: PageArgs & { readonly purpose?: Purpose | null }): Promise<ConsentEventConnection> {
    const page = await this.deps.loaders.historyPage.load({
      key: subjectKey(subject),
      first: parseFirst(args.first, MAX_HISTORY_PAGE),
      beforeSeq: args.after === undefined || args.after === null ? null : decodeNumericCursor(args.after, 'history'),
      purpose: args.purpose ?? null,
    });
    return connectionOf(page, (event) => ({ cursor: encodeCursor('history', event.seq), node: event }), null);
  }

  /** A page of the artists whose artist-wide statements allow `purpose` now. */
  async artistsAllowing(purpose: Purpose, args: PageArgs): Promise<ArtistConnection> {
    const first = parseFirst(args.first, MAX_ARTIST_PAGE);
    const afterArtistId = args.after === undefined || args.after === null ? null : decodeArtistCursor(args.after);
    const page = await this.deps.store.artistsAllowing(purpose, this.deps.decider, { first, afterArtistId, at: this.deps.now });
    const edges = page.artistIds.map((id) => ({ cursor: encodeCursor('artists', id), node: { id } }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }

  /** A page of the change feed; an empty page keeps the caller's cursor as endCursor, so a consumer can always store and resume it. */
  async changes(args: PageArgs): Promise<ConsentEventConnection> {
    const first = parseFirst(args.first, MAX_FEED_PAGE);
    const hasAfter = args.after !== undefined && args.after !== null;
    const afterGseq = hasAfter ? decodeNumericCursor(args.after, 'feed') : 0;
    const page = await this.deps.store.changesAfter(afterGseq, first);
    return connectionOf(page, ({ event, gseq }) => ({ cursor: encodeCursor('feed', gseq), node: event }), hasAfter ? encodeCursor('feed', afterGseq) : null);
  }

  /** Records a statement for the caller (who must manage the artist). */
  setConsent(input: SetConsentInput): Promise<ConsentChangePayload> {
    return this.change(parseSetChange(input, this.deps.now));
  }

  /** Removes a statement for the caller (who must manage the artist). */
  clearConsent(input: ClearConsentInput): Promise<ConsentChangePayload> {
    return this.change(parseClearChange(input));
  }

  /** Who made a change, shown to auditors and to that actor only. */
  visibleActor(actor: string): string | null {
    return visibleActor(this.deps.caller, actor);
  }

  // Validates ownership, appends to the ledger, then decides from a fresh read (not the request's
  // loaders, which may have cached the state from before the change).
  private async change(change: Change): Promise<ConsentChangePayload> {
    const principal = requirePrincipal(this.deps.caller);
    assertCanManage(principal, change.subject.artistId);
    const { event, revision } = await this.deps.store.append(change, principal.subject, this.deps.now);
    const at = new Date(Math.max(this.deps.now.getTime(), event.at.getTime()));
    const states = await this.deps.store.statesByKeys(keysOf(change.subject));
    const view = await viewFrom(async (key) => states.get(key) ?? [], change.subject, at);
    return { event, revision, decision: this.decide(view, change.purpose) };
  }
}

// A subject's statements are its artist's and, for a track, the track's own.
function keysOf(subject: Subject): string[] {
  const artistKey = subjectKey({ artistId: subject.artistId, trackId: null });
  return subject.trackId === null ? [artistKey] : [artistKey, subjectKey(subject)];
}

async function viewFrom(load: (key: string) => Promise<Statement[]>, subject: Subject, at: Date): Promise<ConsentView> {
  const [artist, track = null] = await Promise.all(keysOf(subject).map(load));
  return { statements: { artist: artist!, track }, at };
}

function connectionOf<E>(page: EventPage<E>, edgeOf: (entry: E) => { cursor: string; node: ConsentEvent }, emptyEndCursor: string | null): ConsentEventConnection {
  const edges = page.events.map(edgeOf);
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? emptyEndCursor } };
}
