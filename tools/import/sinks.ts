import { ConsentDomainError } from '../../src/consent/errors.js';
import type { Change } from '../../src/consent/validate.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import type { ImportLine } from './parseImportLine.js';

/** Where an import's changes go: the store itself, or the service's `changeConsents` mutation. */
export interface ChangeSink {
  /** Where the changes go and as whom, for the summary. */
  readonly target: string;
  /**
   * Records a batch (at most 1000 lines) and says, per line in order, whether its idempotency key
   * had been used already (nothing written), or null when the path doesn't say.
   */
  write(lines: readonly ImportLine[]): Promise<Array<boolean | null>>;
  /** Waits for what was written to settle and lets go of connections. */
  close(): Promise<void>;
}

/**
 * The batch was refused because of what a change says (invalid, or an idempotency key reused for
 * a different change). With `index`, the call wrote nothing and that change is the refused one;
 * without, the importer retries the batch a line at a time to find it.
 */
export class RejectedChangeError extends Error {
  override name = 'RejectedChangeError';
  constructor(
    message: string,
    readonly index: number | null = null,
  ) {
    super(message);
  }
}

/** Anything else that stops an import: the path is unreachable, the token is refused, the server failed. */
export class ImportFailedError extends Error {
  override name = 'ImportFailedError';
}

/**
 * Writes straight to the ledger with `store.appendMany`: each change as the line's actor, at the
 * time of the write (the ledger's `at` is when it learned a change; the original time is evidence).
 */
export function storeSink(store: ConsentStore, target: string, log: (line: string) => void = () => {}): ChangeSink {
  return {
    target,
    async write(lines) {
      const now = new Date();
      try {
        const results = await store.appendMany(lines.map((line) => ({ change: line.change, actor: line.actor, now })));
        return results.map((result) => result.replayed);
      } catch (error) {
        if (error instanceof ConsentDomainError) throw new RejectedChangeError(error.message);
        throw error;
      }
    },
    async close() {
      // The store projects at the end (openStore's deferProjection): each changed subject once.
      const started = performance.now();
      await store.projectionSettled();
      const { inserted, synced, failedRounds } = store.projector.counts;
      if (inserted + synced + failedRounds > 0) {
        log(
          `Projection: ${inserted} subjects inserted, ${synced} updated in ${((performance.now() - started) / 1000).toFixed(1)} s` +
            (failedRounds > 0 ? ` (${failedRounds} rounds failed: the service's repair sweep finishes them)` : ''),
        );
      }
      await store.close();
    },
  };
}

/** How to reach the API. */
export interface GraphQLSinkOptions {
  /** The gateway's (or the subgraph's) GraphQL endpoint. */
  readonly url: string;
  /** A bearer token with scope consent:admin; its `sub` is recorded as every event's actor. */
  readonly token: string;
  /** Deadline of one call (ms). @default 300000 */
  readonly timeoutMs?: number;
  /** Attempts of a call that failed in transit or with a 5xx; re-sending is safe (idempotency keys). @default 4 */
  readonly attempts?: number;
}

// Error codes meaning "this change is wrong" rather than "this call can't be served".
const REJECTION_CODES = new Set(['BAD_USER_INPUT', 'IDEMPOTENCY_KEY_REUSED']);

const mutation = (withReplayed: boolean) =>
  `mutation ImportConsents($changes: [ConsentChangeInput!]!) { changeConsents(changes: $changes) { revision${withReplayed ? ' replayed' : ''} event { id } } }`;

interface GraphQLResponse {
  readonly data?: { readonly changeConsents?: ReadonlyArray<{ readonly replayed?: boolean }> | null } | null;
  readonly errors?: ReadonlyArray<{ readonly message: string; readonly extensions?: { readonly code?: string; readonly index?: number } }>;
}

/**
 * Sends each batch as one `changeConsents` call (DESIGN §8) with an admin bearer token. The event's
 * actor is then the token's `sub`; the line's actor and time travel in a SET's `source`. Whether a
 * change was a replay is read from the payload's `replayed` field when the schema has one.
 */
export function graphqlSink(options: GraphQLSinkOptions): ChangeSink {
  let withReplayed = true;
  const call = async (changes: unknown[]): Promise<GraphQLResponse> => {
    const attempts = options.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
          body: JSON.stringify({ query: mutation(withReplayed), variables: { changes } }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 300_000),
        });
      } catch (error) {
        if (attempt < attempts) {
          await pause(attempt);
          continue;
        }
        throw new ImportFailedError(`could not reach ${options.url}: ${(error as Error).message}`);
      }
      if (response.status >= 500 && attempt < attempts) {
        await pause(attempt);
        continue;
      }
      const text = await response.text();
      try {
        return JSON.parse(text) as GraphQLResponse;
      } catch {
        throw new ImportFailedError(`${options.url} answered HTTP ${response.status} with a body that is not GraphQL JSON: ${text.slice(0, 200)}`);
      }
    }
  };
  return {
    target: `${options.url} (changeConsents, as the admin token's subject)`,
    async write(lines) {
      const changes = lines.map((line) => changeInput(line.change));
      let body = await call(changes);
      if (withReplayed && body.errors?.some((e) => /Cannot query field "replayed"/.test(e.message))) {
        // This server's payload doesn't say whether a change was a replay; ask without it.
        withReplayed = false;
        body = await call(changes);
      }
      const errors = body.errors ?? [];
      if (errors.length > 0) {
        const message = errors.map((e) => `${e.message}${e.extensions?.code ? ` (${e.extensions.code})` : ''}`).join('; ');
        if (errors.every((e) => REJECTION_CODES.has(e.extensions?.code ?? ''))) {
          // changeConsents refuses a whole call for one change and names it in extensions.index.
          const index = errors.length === 1 ? errors[0]!.extensions?.index : undefined;
          throw new RejectedChangeError(message, Number.isInteger(index) && index! >= 0 && index! < lines.length ? index! : null);
        }
        throw new ImportFailedError(`changeConsents failed: ${message}`);
      }
      const results = body.data?.changeConsents;
      if (!Array.isArray(results) || results.length !== lines.length) {
        throw new ImportFailedError(`changeConsents answered ${Array.isArray(results) ? results.length : 'no'} results for ${lines.length} changes`);
      }
      return results.map((result) => (typeof result.replayed === 'boolean' ? result.replayed : null));
    },
    async close() {},
  };
}

/** A validated change as a `ConsentChangeInput`. */
export function changeInput(change: Change): { set: Record<string, unknown> } | { clear: Record<string, unknown> } {
  const subject = change.subject.trackId === null ? { artistId: change.subject.artistId } : { ...change.subject };
  if (change.kind === 'CLEAR') return { clear: { subject, purpose: change.purpose, idempotencyKey: change.idempotencyKey } };
  return {
    set: {
      subject,
      purpose: change.purpose,
      choice: change.choice,
      termsVersion: change.termsVersion,
      expiresAt: change.expiresAt?.toISOString() ?? null,
      source: change.source,
      idempotencyKey: change.idempotencyKey,
    },
  };
}

function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
}
