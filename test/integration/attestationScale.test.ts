import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aSetChange } from '../helpers/changes.js';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// The selection documented in docs/federation.md ("For AI teams: attest a training set").
const ATTEST = /* GraphQL */ `
  query Attest($requests: [DecisionRequest!]!, $purpose: ConsentPurpose!) {
    trainingSetAttestation(requests: $requests, purpose: $purpose) {
      version purpose asOf issuedAt keyId policyVersion
      ledgerHead { position hash }
      counts { total allowed denied }
      merkleRoot decisions jws
    }
  }`;

const TRACKS = 10_000;

describe('trainingSetAttestation at 10,000 tracks with credits', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    const t = Date.now() - 60_000;
    for (const artistId of ['sc-a', 'sc-f1', 'sc-f2']) await subgraph.store.append(aSetChange(artistId, 'AI_TRAINING'), 'setup', new Date(t));
    await subgraph.store.append(aSetChange('sc-o', 'AI_TRAINING', { choice: 'DENY', trackId: 'sc-t-7' }), 'setup', new Date(t));
  }, 120_000);
  afterAll(() => subgraph.stop());

  it('passes the request budget and costs two database reads whatever the count', async () => {
    const requests = Array.from({ length: TRACKS }, (_, i) => ({
      artistId: 'sc-a',
      trackId: `sc-t-${i}`,
      featuredArtistIds: ['sc-f1', 'sc-f2'],
      originalArtistIds: i % 2 === 1 ? ['sc-o'] : [],
    }));
    const { result: res, reads } = await countReads(subgraph.store, () => subgraph.query(ATTEST, { requests, purpose: 'GENERATIVE_AI_TRAINING' }, reader));
    expect(res.errors).toBeUndefined();
    const attestation = res.data.trainingSetAttestation;
    expect(attestation.decisions).toHaveLength(TRACKS);
    // sc-o allows nothing (opt-in default) and denies explicitly on sc-t-7: every track crediting it is denied.
    expect(attestation.counts).toEqual({ total: TRACKS, allowed: TRACKS / 2, denied: TRACKS / 2 });
    expect(attestation.decisions[7].parties.map((p: any) => [p.artistId, p.allowed, p.statementId !== null])).toEqual([
      ['sc-a', true, true], ['sc-f1', true, true], ['sc-f2', true, true], ['sc-o', false, true],
    ]);
    expect(reads).toBeLessThanOrEqual(2);
  }, 120_000);
});
