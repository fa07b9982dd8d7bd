import type { Filter } from 'mongodb';
import type { Decider } from '../consent/decide.js';
import { lineage, type Purpose } from '../consent/purposes.js';
import type { Collections, StateDoc } from './collections.js';
import { statementsOf } from './documents.js';
import { storeCall } from './storeCall.js';

/** One page of artists whose artist-wide statements allow a purpose, in artist id order. */
export interface ArtistPage {
  readonly artistIds: string[];
  readonly hasNextPage: boolean;
}

/** Which page of the listing to read, and the instant its decisions are made at. */
export interface ArtistsAllowingOptions {
  readonly first: number;
  readonly afterArtistId: string | null;
  readonly at: Date;
}

// Artist projection keys are `artist/<id>` and ids never contain '/', so every artist key sorts
// below 'artist0' ('0' follows '/'): the range selects artist documents only, in id order.
const ARTIST_PREFIX = 'artist/';
const ARTIST_END = 'artist0';

/**
 * Pages through the artists with a ledger record whose artist-wide statements allow `purpose` at
 * `at` by `decider` (explicitly, by inheritance, or by a default that allows it), after `afterArtistId`.
 * Reads the projection in `_id` order in chunks until `first` allowed artists (and one more, to
 * know whether there is a next page) are found, so cursors are stable and no artist appears twice.
 */
export async function artistsAllowing(
  collections: Collections,
  purpose: Purpose,
  decider: Decider,
  options: ArtistsAllowingOptions & {
    readonly deadlineMs?: number;
    /**
     * The current heads of projection keys (the cache, which follows the commit log): the
     * projection is written after acknowledging, so a document read here may be behind its
     * subject; each is decided on its current head instead. An artist whose first allowing
     * statement is not in the projection yet is left out until it is (never a stale allow).
     */
    readonly current?: (keys: readonly string[]) => Promise<Map<string, StateDoc>>;
  },
): Promise<ArtistPage> {
  const chunk = Math.min(1000, Math.max(100, (options.first + 1) * 2));
  const found: string[] = [];
  let lowerKey = ARTIST_PREFIX + (options.afterArtistId ?? '');
  for (;;) {
    const filter: Filter<StateDoc> = { _id: { $gt: lowerKey, $lt: ARTIST_END } };
    // Where the default denies, only artists with a statement on the purpose's lineage can allow it.
    if (decider.policy.defaults[purpose] === 'DENY') filter['statements.purpose'] = { $in: [...lineage(purpose)] };
    const docs = await storeCall(() => collections.states.find(filter, { batchSize: chunk }).sort({ _id: 1 }).limit(chunk).toArray(), options.deadlineMs);
    const current = options.current === undefined ? null : await options.current(docs.map((doc) => doc._id));
    for (const doc of docs) {
      const decision = decider.decide(purpose, { track: null, artist: statementsOf(current?.get(doc._id) ?? doc) }, options.at);
      if (decision.allowed) found.push(doc.artistId);
      if (found.length > options.first) return { artistIds: found.slice(0, options.first), hasNextPage: true };
    }
    if (docs.length < chunk) return { artistIds: found, hasNextPage: false };
    lowerKey = docs[docs.length - 1]!._id;
  }
}
