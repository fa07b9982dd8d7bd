import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../dev/demo/seedDemo.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// Kept flat: the server limits query depth.
const SIGNALS = /* GraphQL */ `
  query Signals($representations: [_Any!]!, $asOf: DateTime) {
    _entities(representations: $representations) {
      ... on Track { consent(asOf: $asOf) { signals { cawg { label json entries { key use purpose } } tdmReservation aipref aiprefVocabulary } } }
      ... on Artist { consent(asOf: $asOf) { signals { cawg { label json entries { key use purpose } } tdmReservation aipref aiprefVocabulary } } }
    }
  }`;

describe('Consent.signals on the demo data', () => {
  let subgraph: TestSubgraph;
  let reader: string;
  let seededAt: Date;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    seededAt = new Date();
    await seedDemo(subgraph.store, seededAt);
  });
  afterAll(() => subgraph.stop());

  it('exports track-aurora-1 exactly as the README example shows', async () => {
    const res = await subgraph.query(SIGNALS, { representations: [{ __typename: 'Track', id: 'track-aurora-1', artist: { id: 'artist-aurora' } }] }, reader);
    expect(res.errors).toBeUndefined();
    const signals = res.data._entities[0].consent.signals;
    expect({ ...signals, cawg: { label: signals.cawg.label, json: signals.cawg.json } }).toEqual({
      cawg: {
        label: 'cawg.training-mining',
        json: '{"entries":{"cawg.data_mining":{"use":"notAllowed"},"cawg.ai_training":{"use":"notAllowed"},"cawg.ai_generative_training":{"use":"allowed"},"cawg.ai_inference":{"use":"notAllowed"},"com.platform.ai_voice_replication":{"use":"notAllowed"},"com.platform.ai_music_replication":{"use":"allowed"},"com.platform.ai_likeness_replication":{"use":"allowed"}}}',
      },
      tdmReservation: 1,
      aipref: 'train-ai=y, ai-use=n',
      aiprefVocabulary: 'draft-ietf-aipref-vocab-08',
    });
    expect(signals.cawg.entries.find((e: any) => e.key === 'com.platform.ai_voice_replication')).toEqual({ key: 'com.platform.ai_voice_replication', use: 'notAllowed', purpose: 'VOICE_REPLICATION' });
  });

  it('exports the opt-in default for a work nobody has consented for, and for any work before the seed', async () => {
    const res = await subgraph.query(SIGNALS, { representations: [{ __typename: 'Artist', id: 'artist-unknown' }] }, reader);
    const past = await subgraph.query(SIGNALS, { representations: [{ __typename: 'Track', id: 'track-aurora-1', artist: { id: 'artist-aurora' } }], asOf: new Date(seededAt.getTime() - 1).toISOString() }, reader);
    for (const signals of [res.data._entities[0].consent.signals, past.data._entities[0].consent.signals]) {
      expect(signals.cawg.entries.every((e: any) => e.use === 'notAllowed')).toBe(true);
      expect(signals.tdmReservation).toBe(1);
      expect(signals.aipref).toBe('train-ai=n, ai-use=n');
    }
  });
});
