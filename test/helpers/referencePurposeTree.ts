// The purpose tree of DESIGN §2, written out by hand for the test reference models. It imports
// nothing from src/ on purpose: the models must stay independent of the code under test, so a
// mistake in src/consent/purposes.ts shows up as a disagreement instead of being copied.

/** The purposes of DESIGN §2, spelt out here rather than imported. */
export type RefPurpose =
  | 'AI_TRAINING'
  | 'NON_GENERATIVE_AI_TRAINING'
  | 'GENERATIVE_AI_TRAINING'
  | 'VOICE_REPLICATION'
  | 'MUSIC_REPLICATION'
  | 'LIKENESS_REPLICATION'
  | 'AI_INFERENCE'
  | 'RECOMMENDATION'
  | 'ADVERTISING';

/** Each purpose's parent in the tree, or null for a root. */
export const REF_PARENT: Readonly<Record<RefPurpose, RefPurpose | null>> = {
  AI_TRAINING: null,
  NON_GENERATIVE_AI_TRAINING: 'AI_TRAINING',
  GENERATIVE_AI_TRAINING: 'AI_TRAINING',
  VOICE_REPLICATION: 'GENERATIVE_AI_TRAINING',
  MUSIC_REPLICATION: 'GENERATIVE_AI_TRAINING',
  LIKENESS_REPLICATION: 'GENERATIVE_AI_TRAINING',
  AI_INFERENCE: null,
  RECOMMENDATION: null,
  ADVERTISING: null,
};

/** The AI purposes: denied when nothing was said about them (opt-in), the others allowed. */
export const REF_AI: ReadonlySet<RefPurpose> = new Set<RefPurpose>([
  'AI_TRAINING',
  'NON_GENERATIVE_AI_TRAINING',
  'GENERATIVE_AI_TRAINING',
  'VOICE_REPLICATION',
  'MUSIC_REPLICATION',
  'LIKENESS_REPLICATION',
  'AI_INFERENCE',
]);
