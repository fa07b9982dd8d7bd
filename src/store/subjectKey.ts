import type { Subject } from '../consent/statement.js';

/**
 * The projection `_id` of a subject: `artist/<artistId>` or `track/<artistId>/<trackId>`.
 * Ids never contain '/', so keys are unambiguous; a track's key includes its artist, so statements
 * recorded under another artist id for the same track are never read for it.
 */
export function subjectKey(subject: Subject): string {
  return subject.trackId === null ? `artist/${subject.artistId}` : `track/${subject.artistId}/${subject.trackId}`;
}
