import { describe, expect, it } from 'vitest';
import { covers, isAiPurpose, isPurpose, lineage, PARENT, PURPOSES, type Purpose } from '../../src/consent/purposes.js';

describe('PURPOSES', () => {
  it('lists the nine purposes in tree order, each parent before its children', () => {
    expect(PURPOSES).toEqual([
      'AI_TRAINING',
      'NON_GENERATIVE_AI_TRAINING',
      'GENERATIVE_AI_TRAINING',
      'VOICE_REPLICATION',
      'MUSIC_REPLICATION',
      'LIKENESS_REPLICATION',
      'AI_INFERENCE',
      'RECOMMENDATION',
      'ADVERTISING',
    ]);
  });

  it('gives every purpose a parent entry that is a purpose or null', () => {
    expect(Object.keys(PARENT).sort()).toEqual([...PURPOSES].sort());
    for (const p of PURPOSES) {
      const parent = PARENT[p];
      if (parent !== null) {
        expect(isPurpose(parent)).toBe(true);
        expect(PURPOSES.indexOf(parent)).toBeLessThan(PURPOSES.indexOf(p));
      }
    }
  });

  it('has AI_TRAINING, AI_INFERENCE, RECOMMENDATION and ADVERTISING as the only roots', () => {
    expect(PURPOSES.filter((p) => PARENT[p] === null)).toEqual([
      'AI_TRAINING',
      'AI_INFERENCE',
      'RECOMMENDATION',
      'ADVERTISING',
    ]);
  });
});

describe('lineage', () => {
  it('starts with the purpose itself and climbs to the root', () => {
    expect(lineage('VOICE_REPLICATION')).toEqual(['VOICE_REPLICATION', 'GENERATIVE_AI_TRAINING', 'AI_TRAINING']);
    expect(lineage('MUSIC_REPLICATION')).toEqual(['MUSIC_REPLICATION', 'GENERATIVE_AI_TRAINING', 'AI_TRAINING']);
    expect(lineage('LIKENESS_REPLICATION')).toEqual([
      'LIKENESS_REPLICATION',
      'GENERATIVE_AI_TRAINING',
      'AI_TRAINING',
    ]);
    expect(lineage('GENERATIVE_AI_TRAINING')).toEqual(['GENERATIVE_AI_TRAINING', 'AI_TRAINING']);
    expect(lineage('NON_GENERATIVE_AI_TRAINING')).toEqual(['NON_GENERATIVE_AI_TRAINING', 'AI_TRAINING']);
  });

  it('is only the purpose itself for a root', () => {
    for (const root of ['AI_TRAINING', 'AI_INFERENCE', 'RECOMMENDATION', 'ADVERTISING'] as const) {
      expect(lineage(root)).toEqual([root]);
    }
  });

  it('returns a frozen array so callers cannot corrupt the tree', () => {
    expect(Object.isFrozen(lineage('VOICE_REPLICATION'))).toBe(true);
  });
});

describe('covers', () => {
  it('holds for a purpose and itself', () => {
    for (const p of PURPOSES) expect(covers(p, p)).toBe(true);
  });

  it('holds for a parent and a grandparent over a descendant', () => {
    expect(covers('GENERATIVE_AI_TRAINING', 'VOICE_REPLICATION')).toBe(true);
    expect(covers('AI_TRAINING', 'VOICE_REPLICATION')).toBe(true);
    expect(covers('AI_TRAINING', 'NON_GENERATIVE_AI_TRAINING')).toBe(true);
  });

  it('does not hold downwards: a child does not cover its parent', () => {
    expect(covers('VOICE_REPLICATION', 'GENERATIVE_AI_TRAINING')).toBe(false);
    expect(covers('GENERATIVE_AI_TRAINING', 'AI_TRAINING')).toBe(false);
  });

  it('does not hold between siblings or across trees', () => {
    expect(covers('VOICE_REPLICATION', 'MUSIC_REPLICATION')).toBe(false);
    expect(covers('NON_GENERATIVE_AI_TRAINING', 'VOICE_REPLICATION')).toBe(false);
    expect(covers('AI_TRAINING', 'AI_INFERENCE')).toBe(false);
    expect(covers('AI_INFERENCE', 'AI_TRAINING')).toBe(false);
    expect(covers('RECOMMENDATION', 'ADVERTISING')).toBe(false);
  });

  it('holds exactly when the ancestor appears in the lineage', () => {
    for (const a of PURPOSES) {
      for (const p of PURPOSES) expect(covers(a, p)).toBe(lineage(p).includes(a));
    }
  });
});

describe('isAiPurpose', () => {
  it('is true for the whole AI_TRAINING subtree and AI_INFERENCE', () => {
    const ai: Purpose[] = [
      'AI_TRAINING',
      'NON_GENERATIVE_AI_TRAINING',
      'GENERATIVE_AI_TRAINING',
      'VOICE_REPLICATION',
      'MUSIC_REPLICATION',
      'LIKENESS_REPLICATION',
      'AI_INFERENCE',
    ];
    for (const p of ai) expect(isAiPurpose(p), p).toBe(true);
  });

  it('is false for RECOMMENDATION and ADVERTISING', () => {
    expect(isAiPurpose('RECOMMENDATION')).toBe(false);
    expect(isAiPurpose('ADVERTISING')).toBe(false);
  });
});

describe('isPurpose', () => {
  it('accepts every purpose name', () => {
    for (const p of PURPOSES) expect(isPurpose(p)).toBe(true);
  });

  it('rejects unknown strings, including near misses in case and spacing', () => {
    for (const v of ['', 'TRAINING', 'ai_training', 'AI_TRAINING ', ' AI_TRAINING', 'VOICE', 'PLATFORM']) {
      expect(isPurpose(v), JSON.stringify(v)).toBe(false);
    }
  });

  it('rejects names inherited from Object.prototype', () => {
    for (const v of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) expect(isPurpose(v)).toBe(false);
  });

  it('rejects non-strings', () => {
    const values: unknown[] = [
      null,
      undefined,
      0,
      1,
      true,
      {},
      [],
      ['AI_TRAINING'],
      { toString: () => 'AI_TRAINING' },
      new String('AI_TRAINING'),
      Symbol('AI_TRAINING'),
    ];
    for (const v of values) expect(isPurpose(v)).toBe(false);
  });
});
