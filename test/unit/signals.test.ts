import { describe, expect, it } from 'vitest';
import { decideAll, type Decision } from '../../src/consent/decide.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import { PURPOSES, type Purpose } from '../../src/consent/purposes.js';
import type { Statement } from '../../src/consent/statement.js';
import { AIPREF_VOCABULARY, CAWG_ASSERTION_LABEL, cawgAssertionJson, signalsOf } from '../../src/consent/signals.js';
import { aStatement, aTrackStatement, T0 } from '../helpers/builders.js';

const decisions = (artist: Statement[] = [], track: Statement[] | null = null) => decideAll({ artist, track }, T0, DEFAULT_POLICY);
const use = (signals: ReturnType<typeof signalsOf>, key: string) => signals.cawg.entries.find((e) => e.key === key)?.use;

describe('signalsOf', () => {
  it('exports the opt-in default as notAllowed everywhere, TDM reserved and aipref n', () => {
    const signals = signalsOf(decisions());
    expect(signals.cawg.label).toBe(CAWG_ASSERTION_LABEL);
    expect(signals.cawg.entries.map((e) => [e.key, e.use])).toEqual([
      ['cawg.data_mining', 'notAllowed'],
      ['cawg.ai_training', 'notAllowed'],
      ['cawg.ai_generative_training', 'notAllowed'],
      ['cawg.ai_inference', 'notAllowed'],
      ['com.platform.ai_voice_replication', 'notAllowed'],
      ['com.platform.ai_music_replication', 'notAllowed'],
      ['com.platform.ai_likeness_replication', 'notAllowed'],
    ]);
    expect(signals.tdmReservation).toBe(1);
    expect(signals.aipref).toBe('train-ai=n, ai-use=n');
    expect(signals.aiprefVocabulary).toBe(AIPREF_VOCABULARY);
  });

  it('maps each entry from the purpose in DESIGN §1', () => {
    const mapping = Object.fromEntries(signalsOf(decisions()).cawg.entries.map((e) => [e.key, e.purpose]));
    expect(mapping).toEqual({
      'cawg.data_mining': 'AI_TRAINING',
      'cawg.ai_training': 'NON_GENERATIVE_AI_TRAINING',
      'cawg.ai_generative_training': 'GENERATIVE_AI_TRAINING',
      'cawg.ai_inference': 'AI_INFERENCE',
      'com.platform.ai_voice_replication': 'VOICE_REPLICATION',
      'com.platform.ai_music_replication': 'MUSIC_REPLICATION',
      'com.platform.ai_likeness_replication': 'LIKENESS_REPLICATION',
    });
  });

  it('follows inheritance: AI_TRAINING allowed with voice replication denied', () => {
    const signals = signalsOf(decisions([aStatement({ purpose: 'AI_TRAINING', choice: 'ALLOW' }), aStatement({ purpose: 'VOICE_REPLICATION', choice: 'DENY' })]));
    expect(use(signals, 'cawg.data_mining')).toBe('allowed');
    expect(use(signals, 'cawg.ai_training')).toBe('allowed');
    expect(use(signals, 'cawg.ai_generative_training')).toBe('allowed');
    expect(use(signals, 'com.platform.ai_voice_replication')).toBe('notAllowed');
    expect(use(signals, 'com.platform.ai_music_replication')).toBe('allowed');
    expect(use(signals, 'cawg.ai_inference')).toBe('notAllowed');
    expect(signals.tdmReservation).toBe(0);
    expect(signals.aipref).toBe('train-ai=y, ai-use=n');
  });

  it('keeps TDM reserved when only a narrower training purpose is allowed', () => {
    const signals = signalsOf(decisions([aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' }), aStatement({ purpose: 'NON_GENERATIVE_AI_TRAINING', choice: 'ALLOW' })]));
    expect(use(signals, 'cawg.ai_generative_training')).toBe('allowed');
    expect(use(signals, 'cawg.ai_training')).toBe('allowed');
    expect(use(signals, 'cawg.data_mining')).toBe('notAllowed');
    expect(signals.tdmReservation).toBe(1);
  });

  it("uses a track's own statements over its artist's", () => {
    const signals = signalsOf(decisions([aStatement({ purpose: 'AI_INFERENCE', choice: 'ALLOW' })], [aTrackStatement({ purpose: 'AI_INFERENCE', choice: 'DENY' })]));
    expect(use(signals, 'cawg.ai_inference')).toBe('notAllowed');
    expect(signals.aipref).toBe('train-ai=n, ai-use=n');
  });

  it('exports a purpose missing from the decisions as denied, never allowed', () => {
    const allAllowed: Decision[] = PURPOSES.map((purpose: Purpose) => ({ purpose, allowed: true, basis: 'EXPLICIT', scope: 'ARTIST', statement: null, policyVersion: 'v' }));
    const signals = signalsOf(allAllowed.filter((d) => d.purpose !== 'AI_TRAINING' && d.purpose !== 'AI_INFERENCE'));
    expect(use(signals, 'cawg.data_mining')).toBe('notAllowed');
    expect(signals.tdmReservation).toBe(1);
    expect(signals.aipref).toBe('train-ai=y, ai-use=n');
  });

  it('renders the CAWG assertion as the entries JSON a manifest embeds', () => {
    const signals = signalsOf(decisions([aStatement({ purpose: 'AI_TRAINING', choice: 'ALLOW' })]));
    expect(JSON.parse(cawgAssertionJson(signals.cawg))).toEqual({
      entries: {
        'cawg.data_mining': { use: 'allowed' },
        'cawg.ai_training': { use: 'allowed' },
        'cawg.ai_generative_training': { use: 'allowed' },
        'cawg.ai_inference': { use: 'notAllowed' },
        'com.platform.ai_voice_replication': { use: 'allowed' },
        'com.platform.ai_music_replication': { use: 'allowed' },
        'com.platform.ai_likeness_replication': { use: 'allowed' },
      },
    });
  });
});
