import type { StatementsInForce } from '../consent/decide.js';
import { InvalidInputError } from '../consent/errors.js';
import type { Subject } from '../consent/statement.js';
import type { Loaders, RequestContext } from '../context.js';
import type { StateDoc } from '../store/collections.js';
import { statementsOf } from '../store/ConsentStore.js';
import { subjectKey } from '../store/subjectKey.js';

/** What a `Consent` object resolves from: the statements that may decide, and the instant to decide at. */
export interface ConsentView {
  readonly statements: StatementsInForce;
  readonly at: Date;
}

/** Loads the statements of a subject (a track's own and its artist's) through the request's loaders. */
export function loadConsentView(loaders: Loaders, subject: Subject, at: Date): Promise<ConsentView> {
  return viewFrom((key) => loaders.stateByKey.load(key), subject, at);
}

/**
 * The subject's consent as of `asOf`: the statements it had then, read from the ledger and judged
 * (expiry included) at `asOf`; without `asOf`, the current projection at the request's instant.
 * All subjects asked about at one instant in one request share one ledger read.
 */
export function loadConsentViewAsOf(ctx: RequestContext, subject: Subject, asOf: Date | null | undefined): Promise<ConsentView> {
  if (asOf === null || asOf === undefined) return loadConsentView(ctx.loaders, subject, ctx.now);
  const at = parseAsOf(asOf, ctx.now);
  const loader = ctx.loaders.stateAt(at);
  return viewFrom((key) => loader.load(key), subject, at);
}

/**
 * Checks an `asOf` instant: the ledger answers for the past and the present only, since a later
 * change could alter any answer about the future. Throws InvalidInputError for a later instant.
 */
export function parseAsOf(asOf: Date, now: Date): Date {
  if (asOf.getTime() > now.getTime()) {
    throw new InvalidInputError(
      `asOf must not be later than now (${now.toISOString()}), but got: ${asOf.toISOString()}; the ledger cannot know future changes. Omit asOf for the current answer.`,
      'asOf',
    );
  }
  return asOf;
}

async function viewFrom(load: (key: string) => Promise<StateDoc | null>, subject: Subject, at: Date): Promise<ConsentView> {
  const [artist, track] = await Promise.all([
    load(subjectKey({ artistId: subject.artistId, trackId: null })),
    subject.trackId === null ? Promise.resolve(null) : load(subjectKey(subject)),
  ]);
  return {
    statements: {
      artist: statementsOf(artist ?? undefined),
      track: subject.trackId === null ? null : statementsOf(track ?? undefined),
    },
    at,
  };
}
