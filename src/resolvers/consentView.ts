import type { StatementsInForce } from '../consent/decide.js';
import type { Subject } from '../consent/statement.js';
import type { Loaders } from '../context.js';
import { statementsOf } from '../store/ConsentStore.js';
import { subjectKey } from '../store/subjectKey.js';

/** What a `Consent` object resolves from: the statements that may decide, and the instant to decide at. */
export interface ConsentView {
  readonly statements: StatementsInForce;
  readonly at: Date;
}

/** Loads the statements of a subject (a track's own and its artist's) through the request's loaders. */
export async function loadConsentView(loaders: Loaders, subject: Subject, at: Date): Promise<ConsentView> {
  const artistKey = subjectKey({ artistId: subject.artistId, trackId: null });
  const [artist, track] = await Promise.all([
    loaders.stateByKey.load(artistKey),
    subject.trackId === null ? Promise.resolve(null) : loaders.stateByKey.load(subjectKey(subject)),
  ]);
  return {
    statements: {
      artist: statementsOf(artist ?? undefined),
      track: subject.trackId === null ? null : statementsOf(track ?? undefined),
    },
    at,
  };
}
