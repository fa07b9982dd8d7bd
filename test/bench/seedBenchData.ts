import { PURPOSES, type Purpose } from '../../src/consent/purposes.js';
import type { Choice, Subject } from '../../src/consent/statement.js';
import type { Change } from '../../src/consent/validate.js';
import type { Collections, StateDoc } from '../../src/store/collections.js';
import { aClearChange, aSetChange } from '../helpers/changes.js';
import { insertLedgerWithProjection, ledgerDocs, type TimedChange } from '../helpers/seedLedger.js';
import { seededRandom } from '../helpers/seededRandom.js';

/** Size and shape of the benchmark's data set. */
export interface BenchDataOptions {
  /** @default 20000 */
  readonly artists?: number;
  /** @default 200000 */
  readonly tracks?: number;
  /** Share of tracks with statements of their own. @default 0.05 */
  readonly trackStatementShare?: number;
  /** Share of tracks featuring 1–3 other artists (DESIGN §7 credits). @default 0.3 */
  readonly featuredShare?: number;
  /** Share of tracks derived from 1–2 original artists (remix, cover, sample). @default 0.1 */
  readonly derivedShare?: number;
  /** Seed of the deterministic random generator. @default 42 */
  readonly seed?: number;
}

/** The catalog the benchmark queries: which artist each track belongs to, and what was seeded. */
export interface BenchCatalog {
  readonly artists: number;
  readonly tracks: number;
  /** `artistOf[i]` is the artist index of track `i`. */
  readonly artistOf: Int32Array;
  readonly events: number;
  readonly stateDocs: number;
  readonly artistsWithStatements: number;
  readonly tracksWithStatements: number;
  /** The most track statements any one artist has (the skew). */
  readonly maxTrackStatementsPerArtist: number;
  /** Featured artist indexes of track `i`, in credit order (absent: none). */
  readonly featuredOf: ReadonlyMap<number, readonly number[]>;
  /** Original artist indexes of track `i`, in credit order (absent: none). */
  readonly originalsOf: ReadonlyMap<number, readonly number[]>;
  /** Statements filed by featured or original artists about a track they are credited on. */
  readonly creditStatements: number;
  /** Every projection document seeded, for the in-memory ceiling variant. */
  readonly states: readonly StateDoc[];
}

/** The id of artist `i` in the benchmark catalog. */
export const artistId = (i: number): string => `bench-a${i}`;
/** The id of track `i` in the benchmark catalog. */
export const trackId = (i: number): string => `bench-t${i}`;
/** The index `i` of the benchmark track whose id is `trackId(i)`. */
export const trackIndex = (id: string): number => Number(id.slice('bench-t'.length));

// The 20 biggest artists own 1000 tracks each and a quarter of them carry statements (about 250
// per artist); the long tail owns ~9 tracks each with statements on ~2.8 % of them, so the overall
// share stays at `trackStatementShare`.
const BIG_ARTISTS = 20;
const BIG_ARTIST_TRACKS = 1000;
const BATCH = 2000;
const T_START = Date.parse('2025-06-01T00:00:00Z');
const FAR_EXPIRY = Date.parse('2030-01-01T00:00:00Z');

/**
 * Seeds a realistic ledger and projection directly with insertMany: ledger documents from the test
 * helper `ledgerDocs` (hash chains, `state`, `gseq` contiguous from 1), projection documents via
 * `insertLedgerWithProjection` (`stateFromHead` of each subject's last event).
 * Only subjects with statements get projection documents, as the service itself would write them.
 * The collections must be empty (a fresh database) and indexed.
 */
export async function seedBenchData(collections: Collections, options: BenchDataOptions = {}, log: (line: string) => void = () => {}): Promise<BenchCatalog> {
  const artists = options.artists ?? 20000;
  const tracks = options.tracks ?? 200000;
  const share = options.trackStatementShare ?? 0.05;
  const random = seededRandom(options.seed ?? 42);
  const big = Math.min(BIG_ARTISTS, artists);
  const bigTracks = Math.min(big * BIG_ARTIST_TRACKS, tracks);
  const tail = Math.max(1, artists - big);

  const artistOf = new Int32Array(tracks);
  for (let i = 0; i < tracks; i++) artistOf[i] = i < bigTracks ? Math.floor(i / BIG_ARTIST_TRACKS) : big + ((i - bigTracks) % tail);

  // Half of the statements go to the big artists' tracks, half to the long tail.
  const wanted = Math.round(tracks * share);
  const bigShare = bigTracks === 0 ? 0 : Math.min(1, wanted / 2 / bigTracks);
  const tailShare = tracks - bigTracks === 0 ? 0 : Math.min(1, (wanted - bigShare * bigTracks) / (tracks - bigTracks));

  const subjects: Array<{ artist: number; track: number | null }> = [];
  const perArtist = new Map<number, number>();
  for (let i = 0; i < tracks; i++) {
    if (random() < (i < bigTracks ? bigShare : tailShare)) {
      subjects.push({ artist: artistOf[i]!, track: i });
      perArtist.set(artistOf[i]!, (perArtist.get(artistOf[i]!) ?? 0) + 1);
    }
  }
  const tracksWithStatements = subjects.length;
  let artistsWithStatements = 0;
  for (let a = 0; a < artists; a++) {
    // Every big artist and about 30 % of the others made artist-wide statements.
    if (a < big || random() < 0.3) {
      subjects.push({ artist: a, track: null });
      artistsWithStatements++;
    }
  }
  shuffle(subjects, random);

  // Each subject's changes are contiguous in the global order; one second apart.
  const changes: TimedChange[] = [];
  for (const subject of subjects) {
    const target: Subject = { artistId: artistId(subject.artist), trackId: subject.track === null ? null : trackId(subject.track) };
    for (const planned of plannedChanges(random, subject.track === null, subject.artist < big)) {
      const at = new Date(T_START + (changes.length + 1) * 1000);
      const change: Change =
        planned.choice === null
          ? aClearChange(target.artistId, planned.purpose, target.trackId)
          : aSetChange(target.artistId, planned.purpose, {
              trackId: target.trackId,
              choice: planned.choice,
              termsVersion: 'tos-2025-06',
              source: 'bench seed',
              expiresAt: random() < 0.05 ? new Date(FAR_EXPIRY + Math.floor(random() * 1e10)) : null,
            });
      changes.push({ change, actor: `artist-app:${target.artistId}`, at });
    }
  }

  // Credits and the credited artists' own statements about those tracks come from a random stream
  // of their own and are appended after everything above, so the rest of the data set is the same
  // with or without them. Their artist-wide statements are the ones seeded above for every artist.
  const creditRandom = seededRandom((options.seed ?? 42) + 1);
  const { featuredOf, originalsOf } = seedCredits(creditRandom, artistOf, artists, options.featuredShare ?? 0.3, options.derivedShare ?? 0.1);
  let creditStatements = 0;
  for (const [i, credited] of [...featuredOf, ...originalsOf]) {
    for (const a of credited) {
      if (creditRandom() >= share) continue;
      creditStatements++;
      const target: Subject = { artistId: artistId(a), trackId: trackId(i) };
      for (const planned of plannedChanges(creditRandom, false, false)) {
        const at = new Date(T_START + (changes.length + 1) * 1000);
        const change: Change =
          planned.choice === null
            ? aClearChange(target.artistId, planned.purpose, target.trackId)
            : aSetChange(target.artistId, planned.purpose, { trackId: target.trackId, choice: planned.choice, termsVersion: 'tos-2025-06', source: 'bench seed', expiresAt: null });
        changes.push({ change, actor: `artist-app:${target.artistId}`, at });
      }
    }
  }

  const events = ledgerDocs(changes);
  // Every subject has at least one change, so it gets one projection document.
  log(`  inserting ${events.length} ledger events and ${subjects.length + creditStatements} projection documents…`);
  const states = await insertLedgerWithProjection(collections, events, BATCH);
  return {
    artists,
    tracks,
    artistOf,
    events: events.length,
    stateDocs: states.length,
    artistsWithStatements,
    tracksWithStatements,
    maxTrackStatementsPerArtist: Math.max(0, ...perArtist.values()),
    featuredOf,
    originalsOf,
    creditStatements,
    states,
  };
}

/** Picks each track's featured (1–3) and original (1–2) artists: distinct, never the main artist. */
function seedCredits(
  random: () => number,
  artistOf: Int32Array,
  artists: number,
  featuredShare: number,
  derivedShare: number,
): { featuredOf: Map<number, number[]>; originalsOf: Map<number, number[]> } {
  const featuredOf = new Map<number, number[]>();
  const originalsOf = new Map<number, number[]>();
  for (let i = 0; i < artistOf.length; i++) {
    const credited = [artistOf[i]!];
    const pick = (wanted: number): number[] => {
      const picked: number[] = [];
      // A tiny catalogue may not have enough other artists.
      while (picked.length < Math.min(wanted, artists - credited.length + picked.length)) {
        const a = Math.floor(random() * artists);
        if (!credited.includes(a)) {
          credited.push(a);
          picked.push(a);
        }
      }
      return picked;
    };
    if (random() < featuredShare) featuredOf.set(i, pick(1 + Math.floor(random() * 3)));
    if (random() < derivedShare) originalsOf.set(i, pick(1 + Math.floor(random() * 2)));
  }
  return { featuredOf, originalsOf };
}

/** A subject's changes in order: a SET per chosen purpose, sometimes revised or cleared later. */
function plannedChanges(random: () => number, isArtist: boolean, isBig: boolean): Array<{ purpose: Purpose; choice: Choice | null }> {
  const count = isBig && isArtist ? 6 + Math.floor(random() * 4) : 1 + Math.floor(random() * (isArtist ? 4 : 3));
  const purposes = shuffle([...PURPOSES], random).slice(0, count);
  const changes: Array<{ purpose: Purpose; choice: Choice | null }> = purposes.map((purpose) => ({ purpose, choice: pickChoice(random) }));
  // Some history: big artists change their minds a lot; others now and then.
  const revisions = isBig ? 5 + Math.floor(random() * 10) : random() < 0.2 ? 1 : 0;
  for (let r = 0; r < revisions; r++) {
    const purpose = purposes[Math.floor(random() * purposes.length)]!;
    changes.push({ purpose, choice: random() < 0.15 ? null : pickChoice(random) });
  }
  return changes;
}

function pickChoice(random: () => number): Choice {
  return random() < 0.55 ? 'DENY' : 'ALLOW';
}


function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
