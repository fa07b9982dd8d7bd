import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

const ATTEST = /* GraphQL */ `
  query Attest($requests: [DecisionRequest!]!, $purpose: ConsentPurpose!, $asOf: DateTime) {
    trainingSetAttestation(requests: $requests, purpose: $purpose, asOf: $asOf) { merkleRoot jws }
  }`;

describe('trainingSetAttestation given bad input', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
  }, 60_000);
  afterAll(() => subgraph.stop());

  it('refuses more than 10,000 requests as BAD_USER_INPUT before any read', async () => {
    const requests = Array.from({ length: 10_001 }, (_, i) => ({ artistId: `a-${i}` }));
    const { result: res, reads } = await countReads(subgraph.store, () => subgraph.query(ATTEST, { requests, purpose: 'AI_TRAINING' }, reader));
    expect(res.errors?.[0]).toMatchObject({ message: expect.stringMatching(/at most 10000 requests per call, but got 10001/), extensions: { code: 'BAD_USER_INPUT' } });
    expect(res.data).toBeNull();
    expect(reads).toBe(0);
  });

  it('refuses credits on an artist-wide request and an asOf in the future, before any read', async () => {
    const credits = await countReads(subgraph.store, () =>
      subgraph.query(ATTEST, { requests: [{ artistId: 'a-1' }, { artistId: 'a-2', featuredArtistIds: ['a-3'] }], purpose: 'AI_TRAINING' }, reader),
    );
    expect(credits.result.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^requests\[1\]\.featuredArtistIds/), extensions: { code: 'BAD_USER_INPUT' } });
    const future = await countReads(subgraph.store, () =>
      subgraph.query(ATTEST, { requests: [{ artistId: 'a-1' }], purpose: 'AI_TRAINING', asOf: new Date(Date.now() + 3_600_000).toISOString() }, reader),
    );
    expect(future.result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(credits.reads + future.reads).toBe(0);
  });

  it('refuses a caller without consent:read and signs nothing', async () => {
    const res = await subgraph.query(ATTEST, { requests: [{ artistId: 'a-1' }], purpose: 'AI_TRAINING' });
    expect(res.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
    expect(res.data?.trainingSetAttestation ?? null).toBeNull();
  });
});
