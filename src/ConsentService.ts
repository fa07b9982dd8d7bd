import type { AttestationKeys } from './attestationKeys.js';
import { assertCanManage, requirePrincipal, visibleActor } from './auth/authorize.js';
import type { Caller } from './auth/Principal.js';
import { decodeArtistCursor, decodeNumericCursor, encodeCursor, parseFirst } from './consent/cursor.js';
import { parseCredits, partiesOf, trackCredits, type Party, type TrackRepresentation } from './consent/credits.js';
import { attestationStatement, attestedDecisionOf, decideAttested, subjectsOfAttested, type AttestationStatement, type AttestedDecision, type AttestedRequest } from './consent/attestation.js';
import type { Decider } from './consent/decide.js';
import { ConsentDomainError, InvalidInputError } from './consent/errors.js';
import type { ConsentEvent } from './consent/event.js';
import { decideAllParties, decideParties, statementsOfParties, trackSubjectsOf, type PartiesDecision, type PartyStatements } from './consent/parties.js';
import { covers, type Purpose } from './consent/purposes.js';
import { signalsOf, type ConsentSignals } from './consent/signals.js';
import type { Statement, Subject } from './consent/statement.js';
import { parseAsOf, parseClearChange, parseSetChange, parseSubject, type Change } from './consent/validate.js';
import { ChangeRefusedError, ForbiddenError } from './errors.js';
import { BatchIdempotencyConflictError } from './consent/errors.js';
import type { Loaders } from './loaders.js';
import type { DecisionTally } from './observability/DecisionTally.js';
import type { AppendResult, ConsentStore } from './store/ConsentStore.js';
import type { EventPage } from './store/history.js';
import { subjectKey } from './store/subjectKey.js';
import type { ChangeFeedHub, FeedItem } from './subscriptions/ChangeFeedHub.js';

/** Most requests one `consentDecisions` call answers. */
export const MAX_DECISION_REQUESTS = 1000;
/** Most changes one `changeConsents` call records. */
export const MAX_CHANGES_PER_CALL = 1000;
/** Most requests one `trainingSetAttestation` call attests. */
export const MAX_ATTESTATION_REQUESTS = 10_000;
/** Most events one page of the change feed may ask for. */
export const MAX_FEED_PAGE = 1000;
/** Most artists one page of `artistsAllowing` may ask for. */
export const MAX_ARTIST_PAGE = 1000;
/** Most events one page of a subject's history may ask for. */
export const MAX_HISTORY_PAGE = 100;

/** What a `Consent` object resolves from: each credited party with the statements that may decide for it, and the instant to decide at. */
export interface ConsentView {
  readonly parties: readonly PartyStatements[];
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
  readonly decision: PartiesDecision;
  /** The track changed, as an entity reference; null for an artist-wide change. */
  readonly track: { readonly id: string } | null;
  /** True when the idempotency key had been used: nothing was written. */
  readonly replayed: boolean;
}

/** The input of `setConsent`, typed by the schema; ids, texts, the expiry and the credits are checked by the core. */
export type SetConsentInput = Parameters<typeof parseSetChange>[0] & { readonly credits?: unknown };
/** The input of `clearConsent`, typed by the schema. */
export type ClearConsentInput = Parameters<typeof parseClearChange>[0] & { readonly credits?: unknown };

/** One change of `changeConsents` as GraphQL passes it: exactly one of `set` and `clear`, checked by the service. */
export interface ConsentChangeInput {
  readonly set?: SetConsentInput | null;
  readonly clear?: ClearConsentInput | null;
}

/** A subject as GraphQL passes it (`ConsentSubjectInput`); its ids are checked by the core. */
export interface SubjectInput {
  readonly artistId: string;
  readonly trackId?: string | null;
}

/** A `DecisionRequest`: a subject and, for a track, the ids of the artists credited on it besides its main artist. */
export interface DecisionRequestInput extends SubjectInput {
  readonly featuredArtistIds?: readonly string[] | null;
  readonly originalArtistIds?: readonly string[] | null;
}

/** What one request's service is built from. */
export interface ConsentServiceDeps {
  readonly store: ConsentStore;
  readonly decider: Decider;
  readonly loaders: Loaders;
  readonly caller: Caller;
  readonly now: Date;
  readonly tally: DecisionTally;
  readonly attestationKeys: AttestationKeys;
  /** The process's change-feed push, on connections that serve subscriptions (WebSocket). @default none */
  readonly feed?: ChangeFeedHub;
}

/** A signed training-set attestation, as the `TrainingSetAttestation` type. */
export interface TrainingSetAttestation {
  readonly version: string;
  readonly purpose: Purpose;
  readonly asOf: Date;
  readonly issuedAt: Date;
  readonly keyId: string;
  readonly policyVersion: string;
  readonly ledgerHead: { readonly position: string; readonly hash: string | null };
  readonly counts: AttestationStatement['counts'];
  readonly merkleRoot: string;
  readonly decisions: readonly AttestedDecision[];
  readonly jws: string;
}

/** A change-feed event with its feed position, so `ConsentEvent.feedCursor` can be resolved. */
export type FeedEvent = ConsentEvent & { readonly gseq?: number };

/**
 * Everything the resolvers ask of the subgraph, for one request: arguments are validated before
 * any read, reads go through the request's loaders, and every decision returned is counted.
 */
export class ConsentService {
  constructor(private readonly deps: ConsentServiceDeps) {}

  /**
   * An artist's own consent as of `asOf` (one party: MAIN, the artist): the statements it had then,
   * read from the ledger and judged (expiry included) at `asOf`; without `asOf`, the current
   * projection at the request's instant. All subjects asked about at one instant in one request
   * share one read.
   */
  artistConsent(artistId: string, asOf?: Date | null): Promise<ConsentView> {
    return this.view([{ artistId, role: 'MAIN' }], null, asOf);
  }

  /**
   * A track's consent over every artist the representation credits (DESIGN §7), as of `asOf` like
   * `artistConsent`; the credits are validated before any read, and every party's subjects join the
   * request's one loader batch.
   */
  trackConsent(track: TrackRepresentation, asOf?: Date | null): Promise<ConsentView> {
    return this.view(partiesOf(trackCredits(track)), track.id, asOf);
  }

  /** The decision of one purpose over a view. */
  decide(view: ConsentView, purpose: Purpose): PartiesDecision {
    return this.deps.tally.count(decideParties(purpose, view.parties, view.at, this.deps.decider.policy));
  }

  /** The decisions of every purpose over a view. */
  decideAll(view: ConsentView): PartiesDecision[] {
    return this.deps.tally.count(decideAllParties(view.parties, view.at, this.deps.decider.policy));
  }

  /** A view's combined decisions in the public vocabularies (not counted: they repeat `decideAll`). */
  signals(view: ConsentView): ConsentSignals {
    return signalsOf(decideAllParties(view.parties, view.at, this.deps.decider.policy));
  }

  /**
   * Decides one purpose for each request at one instant, a track over the credits its request
   * gives; every request is validated before any read, and all subjects go through one loader
   * batch: one database read.
   */
  async decideMany(requests: readonly DecisionRequestInput[], purpose: Purpose, asOf?: Date | null): Promise<PartiesDecision[]> {
    if (requests.length > MAX_DECISION_REQUESTS) {
      throw new InvalidInputError(
        `consentDecisions takes at most ${MAX_DECISION_REQUESTS} requests per call, but got ${requests.length}; split the list.`,
        'requests',
      );
    }
    const asked = requests.map((request, index) => partiesOfRequest(request, `requests[${index}]`));
    // Checked once, before the reads the views start.
    const read = this.reader(asOf);
    const views = await Promise.all(asked.map(({ parties, trackId }) => viewOf(read.load, parties, trackId, read.at)));
    return views.map((view) => this.decide(view, purpose));
  }

  /**
   * Decides one purpose for each request from the ledger as it stood at its global head, as of
   * `asOf` (now when omitted), and signs the result. Every request is validated before any read;
   * two reads whatever the count: the head, then every subject's statements at `asOf` up to it.
   */
  async attest(requests: readonly DecisionRequestInput[], purpose: Purpose, asOf?: Date | null): Promise<TrainingSetAttestation> {
    if (requests.length > MAX_ATTESTATION_REQUESTS) {
      throw new InvalidInputError(
        `trainingSetAttestation takes at most ${MAX_ATTESTATION_REQUESTS} requests per call, but got ${requests.length}; attest the set in parts.`,
        'requests',
      );
    }
    const asked = requests.map((request, index) => attestedRequestOf(request, `requests[${index}]`));
    const at = asOf === null || asOf === undefined ? this.deps.now : parseAsOf(asOf, this.deps.now);
    // The head is read first and bounds the statements read after it, so a write landing between
    // the two reads can't make the decisions disagree with the head they are signed with.
    const head = await this.deps.store.globalHead();
    const keys = [...new Set(asked.flatMap((request) => subjectsOfAttested(request).map(subjectKey)))];
    const states = keys.length === 0 ? new Map<string, Statement[]>() : await this.deps.store.statesAt(keys, at, head.position);
    const policy = this.deps.decider.policy;
    const decisions = asked.map((request) =>
      attestedDecisionOf(request, this.deps.tally.count(decideAttested(request, purpose, at, policy, (subject) => states.get(subjectKey(subject)) ?? []))),
    );
    const { kid } = this.deps.attestationKeys;
    const statement = attestationStatement({ kid, issuedAt: this.deps.now, asOf: at, purpose, policyVersion: policy.version, head, decisions });
    return {
      version: statement.v,
      purpose,
      asOf: at,
      issuedAt: this.deps.now,
      keyId: kid,
      policyVersion: statement.policyVersion,
      ledgerHead: { position: String(head.position), hash: head.hash },
      counts: statement.counts,
      merkleRoot: statement.root,
      decisions,
      jws: await this.deps.attestationKeys.sign(statement),
    };
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
    return connectionOf(page, ({ event, gseq }) => ({ cursor: encodeCursor('feed', gseq), node: { ...event, gseq } }), hasAfter ? encodeCursor('feed', afterGseq) : null);
  }

  /**
   * The change feed pushed after `after` (a feed cursor; none: from now on), keeping events about
   * `purposes`, their ancestors and their descendants. Arguments are checked before any read.
   */
  async subscribeChanges(args: { readonly after?: string | null; readonly purposes?: readonly Purpose[] | null }): Promise<AsyncIterableIterator<FeedItem>> {
    const afterGseq = args.after === undefined || args.after === null ? null : decodeNumericCursor(args.after, 'feed');
    const purposes = args.purposes ?? null;
    if (purposes !== null && purposes.length === 0) {
      throw new InvalidInputError('purposes must name at least one purpose; omit it for events about every purpose.', 'purposes');
    }
    if (this.deps.feed === undefined) {
      throw new InvalidInputError('Subscriptions are served over WebSocket (graphql-ws) at the GraphQL path.', 'operation');
    }
    // A statement about a purpose changes the decision for every purpose below it, and a narrower
    // statement changes what its ancestors' subtree decides: both are news to the subscriber.
    const accept = purposes === null ? () => true : (event: ConsentEvent) => purposes.some((p) => covers(p, event.purpose) || covers(event.purpose, p));
    return this.deps.feed.subscribe(afterGseq, accept);
  }

  /** Records a statement for the caller (who must manage the artist); with `credits`, decides the track over them. */
  async setConsent(input: SetConsentInput): Promise<ConsentChangePayload> {
    const checked = this.checkedSet(input);
    const result = await this.deps.store.append(checked.change, this.actor(), this.deps.now);
    return (await this.payloadsOf([checked], [result]))[0]!;
  }

  /** Removes a statement for the caller (who must manage the artist); with `credits`, decides the track over them. */
  async clearConsent(input: ClearConsentInput): Promise<ConsentChangePayload> {
    const checked = this.checkedClear(input);
    const result = await this.deps.store.append(checked.change, this.actor(), this.deps.now);
    return (await this.payloadsOf([checked], [result]))[0]!;
  }

  /**
   * Records up to MAX_CHANGES_PER_CALL sets and clears for the caller with one `appendMany`, and
   * returns their payloads in input order. Every change is checked as `setConsent`/`clearConsent`
   * check it, and authorised, before anything is written: the first refused one throws
   * ChangeRefusedError with its index, and nothing is written. The decisions are read after the
   * whole call is written, in one read for every subject of the call.
   */
  async changeConsents(changes: readonly ConsentChangeInput[]): Promise<ConsentChangePayload[]> {
    if (changes.length > MAX_CHANGES_PER_CALL) {
      throw new InvalidInputError(
        `changeConsents takes at most ${MAX_CHANGES_PER_CALL} changes per call, but got ${changes.length}; split the list (nothing was written).`,
        'changes',
      );
    }
    const checked: CheckedChange[] = [];
    // The first change that used each idempotency key: the key names one change of this caller.
    const keyOwners = new Map<string, number>();
    for (const [index, input] of changes.entries()) {
      const item = this.checkedItem(input, index);
      const key = item.change.idempotencyKey;
      const owner = key === null ? undefined : keyOwners.get(key);
      if (owner !== undefined) {
        const refusal = new InvalidInputError(`idempotencyKey ${JSON.stringify(key)} is also the key of changes[${owner}]; give each change of a call its own key.`, 'idempotencyKey');
        throw new ChangeRefusedError(index, `changes[${index}].${item.change.kind === 'SET' ? 'set' : 'clear'}`, refusal);
      }
      if (key !== null) keyOwners.set(key, index);
      checked.push(item);
    }
    if (checked.length === 0) return [];
    const actor = this.actor();
    let results;
    try {
      results = await this.deps.store.appendMany(checked.map(({ change }) => ({ change, actor, now: this.deps.now })));
    } catch (error) {
      // A key already used for a different change (found by the store, before it wrote anything).
      if (error instanceof BatchIdempotencyConflictError) {
        const kind = checked[error.index]!.change.kind === 'SET' ? 'set' : 'clear';
        throw new ChangeRefusedError(error.index, `changes[${error.index}].${kind}`, error);
      }
      throw error;
    }
    return this.payloadsOf(checked, results);
  }

  /** Who made a change, shown to auditors and to that actor only. */
  visibleActor(actor: string): string | null {
    return visibleActor(this.deps.caller, actor);
  }

  // The loader for `asOf` (checked here, before any read) and the instant to decide at.
  private reader(asOf: Date | null | undefined): { load: (key: string) => Promise<Statement[]>; at: Date } {
    if (asOf === null || asOf === undefined) return { load: (key) => this.deps.loaders.stateByKey.load(key), at: this.deps.now };
    const at = parseAsOf(asOf, this.deps.now);
    const loader = this.deps.loaders.stateAt(at);
    return { load: (key) => loader.load(key), at };
  }

  private view(parties: readonly Party[], trackId: string | null, asOf: Date | null | undefined): Promise<ConsentView> {
    const read = this.reader(asOf);
    return viewOf(read.load, parties, trackId, read.at);
  }

  // Who the ledger records as making the request's changes.
  private actor(): string {
    return requirePrincipal(this.deps.caller).subject;
  }

  private checkedSet(input: SetConsentInput): CheckedChange {
    const change = parseSetChange(input, this.deps.now);
    return this.authorised(change, partiesOfChange(change.subject, input.credits));
  }

  private checkedClear(input: ClearConsentInput): CheckedChange {
    const change = parseClearChange(input);
    return this.authorised(change, partiesOfChange(change.subject, input.credits));
  }

  // Checks that the caller may manage the change's artist. The subject's own artist is the one
  // party of the payload's decision unless the caller passed the track's credits.
  private authorised(change: Change, credited: readonly Party[] | null): CheckedChange {
    assertCanManage(requirePrincipal(this.deps.caller), change.subject.artistId);
    return { change, parties: credited ?? [{ artistId: change.subject.artistId, role: 'MAIN' }] };
  }

  // One change of a call checked as its single mutation checks it; a refusal names its index.
  private checkedItem(input: ConsentChangeInput, index: number): CheckedChange {
    const { set, clear } = input;
    const hasSet = set !== undefined && set !== null;
    if (hasSet === (clear !== undefined && clear !== null)) {
      const refusal = new InvalidInputError(`give exactly one of set and clear, but got ${hasSet ? 'both' : 'neither'}.`, 'changes');
      throw new ChangeRefusedError(index, `changes[${index}]`, refusal);
    }
    try {
      return hasSet ? this.checkedSet(set) : this.checkedClear(clear!);
    } catch (error) {
      if (error instanceof ConsentDomainError || error instanceof ForbiddenError) {
        throw new ChangeRefusedError(index, `changes[${index}].${hasSet ? 'set' : 'clear'}`, error);
      }
      throw error;
    }
  }

  // Decides each written change from one fresh read of every subject the payloads decide over (not
  // the request's loaders, which may have cached the state from before the writes), each at the
  // later of the request's instant and its event's.
  private async payloadsOf(checked: readonly CheckedChange[], results: readonly AppendResult[]): Promise<ConsentChangePayload[]> {
    const keys = new Set(checked.flatMap(({ change, parties }) => subjectsOf(parties, change.subject.trackId).map(subjectKey)));
    const states = await this.deps.store.statesAfterWrites([...keys], results);
    const load = async (key: string) => states.get(key) ?? [];
    return Promise.all(
      checked.map(async ({ change, parties }, i) => {
        const { event, revision, replayed } = results[i]!;
        const { trackId } = change.subject;
        const at = new Date(Math.max(this.deps.now.getTime(), event.at.getTime()));
        const view = await viewOf(load, parties, trackId, at);
        return { event, revision, replayed, decision: this.decide(view, change.purpose), track: trackId === null ? null : { id: trackId } };
      }),
    );
  }
}

// A change validated and authorised, with the parties its payload's decision is over.
interface CheckedChange {
  readonly change: Change;
  readonly parties: readonly Party[];
}

// A track's decision needs each party's statements on it and artist-wide; an artist's, its own.
function subjectsOf(parties: readonly Party[], trackId: string | null): Subject[] {
  return trackId === null ? parties.map(({ artistId }) => ({ artistId, trackId: null })) : trackSubjectsOf(trackId, parties);
}

// Every load is started in the same tick, so all parties of all views share the loader's batch.
async function viewOf(load: (key: string) => Promise<Statement[]>, parties: readonly Party[], trackId: string | null, at: Date): Promise<ConsentView> {
  const keys = subjectsOf(parties, trackId).map(subjectKey);
  const lists = await Promise.all(keys.map(load));
  const found = new Map(keys.map((key, i) => [key, lists[i]!]));
  return { parties: statementsOfParties(parties, trackId, (subject) => found.get(subjectKey(subject)) ?? []), at };
}

// A request's subject and parties: the artist alone, or the track's main artist and its credits.
function partiesOfRequest(request: DecisionRequestInput, path: string): { parties: Party[]; trackId: string | null } {
  const subject = parseSubject(request, path);
  if (subject.trackId === null) {
    refuseCreditsWithoutTrack(request, path);
    return { parties: [{ artistId: subject.artistId, role: 'MAIN' }], trackId: null };
  }
  const { featuredArtistIds, originalArtistIds } = request;
  return { parties: partiesOf(parseCredits({ mainArtistId: subject.artistId, featuredArtistIds, originalArtistIds }, path)), trackId: subject.trackId };
}

// Credits describe a track; on an artist-wide request they would be silently ignored, so they are refused.
function refuseCreditsWithoutTrack(request: DecisionRequestInput, path: string): void {
  for (const field of ['featuredArtistIds', 'originalArtistIds'] as const) {
    const value = request[field];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) {
      throw new InvalidInputError(`${path}.${field} credits artists on a track, so it needs ${path}.trackId; omit it for the whole artist.`, `${path}.${field}`);
    }
  }
}

// A request as attested: its subject and its credits as validated (none for an artist).
function attestedRequestOf(request: DecisionRequestInput, path: string): AttestedRequest {
  const subject = parseSubject(request, path);
  if (subject.trackId === null) {
    refuseCreditsWithoutTrack(request, path);
    return { artistId: subject.artistId, trackId: null, featuredArtistIds: [], originalArtistIds: [] };
  }
  const { featuredArtistIds, originalArtistIds } = request;
  const credits = parseCredits({ mainArtistId: subject.artistId, featuredArtistIds, originalArtistIds }, path);
  return { artistId: subject.artistId, trackId: subject.trackId, featuredArtistIds: credits.featuredArtistIds, originalArtistIds: credits.originalArtistIds };
}

// The parties a change's payload decides over: null (the subject's own artist) without credits.
function partiesOfChange(subject: Subject, credits: unknown): Party[] | null {
  if (credits === undefined || credits === null) return null;
  if (subject.trackId === null) {
    throw new InvalidInputError('credits are the credits of a track, so they need subject.trackId; omit them for an artist-wide change.', 'credits');
  }
  return partiesOf(parseCredits(credits, 'credits'));
}

function connectionOf<E>(page: EventPage<E>, edgeOf: (entry: E) => { cursor: string; node: ConsentEvent }, emptyEndCursor: string | null): ConsentEventConnection {
  const edges = page.events.map(edgeOf);
  return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? emptyEndCursor } };
}
