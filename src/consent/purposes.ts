/** The purposes a work may be used for, in tree order (depth first). */
export const PURPOSES = [
  'AI_TRAINING',
  'NON_GENERATIVE_AI_TRAINING',
  'GENERATIVE_AI_TRAINING',
  'VOICE_REPLICATION',
  'MUSIC_REPLICATION',
  'LIKENESS_REPLICATION',
  'AI_INFERENCE',
  'RECOMMENDATION',
  'ADVERTISING',
] as const;

/** One purpose of the tree. */
export type Purpose = (typeof PURPOSES)[number];

/** Each purpose's parent; roots have none. */
export const PARENT: Readonly<Record<Purpose, Purpose | null>> = Object.freeze({
  AI_TRAINING: null,
  NON_GENERATIVE_AI_TRAINING: 'AI_TRAINING',
  GENERATIVE_AI_TRAINING: 'AI_TRAINING',
  VOICE_REPLICATION: 'GENERATIVE_AI_TRAINING',
  MUSIC_REPLICATION: 'GENERATIVE_AI_TRAINING',
  LIKENESS_REPLICATION: 'GENERATIVE_AI_TRAINING',
  AI_INFERENCE: null,
  RECOMMENDATION: null,
  ADVERTISING: null,
});

const PURPOSE_SET: ReadonlySet<string> = new Set(PURPOSES);

/** Whether a value is one of the purposes. */
export function isPurpose(value: unknown): value is Purpose {
  return typeof value === 'string' && PURPOSE_SET.has(value);
}

/** The purpose itself, then its parent, grandparent… up to its root. */
export function lineage(purpose: Purpose): readonly Purpose[] {
  return LINEAGE[purpose];
}

/** Whether `ancestor` is `purpose` or above it in the tree. */
export function covers(ancestor: Purpose, purpose: Purpose): boolean {
  return LINEAGE[purpose].includes(ancestor);
}

/** Whether the purpose is an AI use (the AI_TRAINING subtree and AI_INFERENCE): opt-in. */
export function isAiPurpose(purpose: Purpose): boolean {
  const root = LINEAGE[purpose][LINEAGE[purpose].length - 1];
  return root === 'AI_TRAINING' || root === 'AI_INFERENCE';
}

const LINEAGE: Readonly<Record<Purpose, readonly Purpose[]>> = Object.freeze(
  Object.fromEntries(
    PURPOSES.map((purpose) => {
      const chain: Purpose[] = [];
      for (let p: Purpose | null = purpose; p !== null; p = PARENT[p]) chain.push(p);
      return [purpose, Object.freeze(chain)];
    }),
  ) as Record<Purpose, readonly Purpose[]>,
);
