import type { Decision } from './decide.js';
import type { Purpose } from './purposes.js';

/** A CAWG training-and-data-mining value; this service exports only `allowed` and `notAllowed`. */
export type CawgUse = 'allowed' | 'notAllowed';

/** One entry of the CAWG assertion: its key and the use it permits. */
export interface CawgEntry {
  readonly key: string;
  readonly use: CawgUse;
  /** The purpose whose decision gave the value. */
  readonly purpose: Purpose;
}

/** The CAWG training-and-data-mining assertion of one work. */
export interface CawgAssertion {
  readonly label: string;
  readonly entries: readonly CawgEntry[];
}

/** The decisions of one work, exported in public vocabularies (DESIGN §1). */
export interface ConsentSignals {
  /** The CAWG training-and-data-mining assertion (`cawg.training-mining`). */
  readonly cawg: CawgAssertion;
  /** TDMRep `tdm-reservation`: 1 = rights reserved, 0 = not reserved (only when AI_TRAINING is allowed). */
  readonly tdmReservation: 0 | 1;
  /** IETF aipref usage preference as a Structured Fields dictionary, e.g. `train-ai=n, ai-use=n`. */
  readonly aipref: string;
  /** The aipref vocabulary draft the `aipref` string follows. */
  readonly aiprefVocabulary: string;
}

/** The label of the CAWG training-and-data-mining assertion. */
export const CAWG_ASSERTION_LABEL = 'cawg.training-mining';

/** The platform's prefix for custom CAWG entries (CAWG allows entries outside the `cawg.` namespace). */
export const PLATFORM_SIGNAL_PREFIX = 'com.platform';

/**
 * The aipref draft followed: in draft-ietf-aipref-vocab-08 `train-ai` is generative AI training and
 * `ai-use` is using the asset as input to an AI system (draft -03 had `train-ai` ⊃ `train-genai`).
 */
export const AIPREF_VOCABULARY = 'draft-ietf-aipref-vocab-08';

// DESIGN §1, row by row; the order is the order of the exported entries.
const CAWG_ENTRIES: ReadonlyArray<readonly [string, Purpose]> = [
  ['cawg.data_mining', 'AI_TRAINING'],
  ['cawg.ai_training', 'NON_GENERATIVE_AI_TRAINING'],
  ['cawg.ai_generative_training', 'GENERATIVE_AI_TRAINING'],
  ['cawg.ai_inference', 'AI_INFERENCE'],
  [`${PLATFORM_SIGNAL_PREFIX}.ai_voice_replication`, 'VOICE_REPLICATION'],
  [`${PLATFORM_SIGNAL_PREFIX}.ai_music_replication`, 'MUSIC_REPLICATION'],
  [`${PLATFORM_SIGNAL_PREFIX}.ai_likeness_replication`, 'LIKENESS_REPLICATION'],
];

const AIPREF_ENTRIES: ReadonlyArray<readonly [string, Purpose]> = [
  ['train-ai', 'GENERATIVE_AI_TRAINING'],
  ['ai-use', 'AI_INFERENCE'],
];

/**
 * Exports a work's decisions as CAWG, TDMRep and aipref signals. A purpose missing from `decisions`
 * exports as denied, so an incomplete list can never widen what the outside world is told.
 */
export function signalsOf(decisions: readonly Decision[]): ConsentSignals {
  const allowed = new Set(decisions.filter((d) => d.allowed).map((d) => d.purpose));
  return {
    cawg: {
      label: CAWG_ASSERTION_LABEL,
      entries: CAWG_ENTRIES.map(([key, purpose]) => ({ key, purpose, use: allowed.has(purpose) ? 'allowed' : 'notAllowed' })),
    },
    tdmReservation: allowed.has('AI_TRAINING') ? 0 : 1,
    aipref: AIPREF_ENTRIES.map(([key, purpose]) => `${key}=${allowed.has(purpose) ? 'y' : 'n'}`).join(', '),
    aiprefVocabulary: AIPREF_VOCABULARY,
  };
}

/** The CAWG assertion as the JSON object a C2PA manifest embeds (`{ entries: { key: { use } } }`). */
export function cawgAssertionJson(assertion: CawgAssertion): string {
  return JSON.stringify({ entries: Object.fromEntries(assertion.entries.map((e) => [e.key, { use: e.use }])) });
}
