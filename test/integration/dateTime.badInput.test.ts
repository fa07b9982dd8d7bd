import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken } from '../helpers/tokens.js';

// Consent evidence holds exactly what was sent: an impossible date is refused before any write,
// and a valid one is stored as the instant it names.

const SET = 'mutation ($input: SetConsentInput!) { setConsent(input: $input) { event { id expiresAt } } }';
const valid = { subject: { artistId: 'a-dates' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1' };

describe('DateTime input to setConsent', () => {
  let subgraph: TestSubgraph;
  let admin: string;
  const ledgerSize = () => subgraph.store.collections.events.countDocuments({});

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    admin = await adminToken();
  });
  afterAll(() => subgraph.stop());

  it('refuses expiresAt "2030-02-31T00:00:00Z" in a variable with BAD_USER_INPUT quoting it, and writes nothing', async () => {
    const before = await ledgerSize();
    const res = await subgraph.query(SET, { input: { ...valid, expiresAt: '2030-02-31T00:00:00Z' } }, admin);
    expect(res.data?.setConsent ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('"2030-02-31T00:00:00Z"');
    expect(await ledgerSize()).toBe(before);
  });

  it('refuses the same value written into the query at validation (GRAPHQL_VALIDATION_FAILED, as every bad literal), and writes nothing', async () => {
    const before = await ledgerSize();
    const res = await subgraph.query(
      'mutation { setConsent(input: { subject: { artistId: "a-dates" }, purpose: AI_TRAINING, choice: ALLOW, termsVersion: "tos-1", expiresAt: "2030-02-31T00:00:00Z" }) { event { id } } }',
      {},
      admin,
    );
    expect(res.data?.setConsent ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toContain('day must be 01 to 28');
    expect(await ledgerSize()).toBe(before);
  });

  it('stores expiresAt "2031-01-01T01:00:00+01:00" as the same instant and returns it in UTC', async () => {
    const res = await subgraph.query(SET, { input: { ...valid, expiresAt: '2031-01-01T01:00:00+01:00' } }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.setConsent.event.expiresAt).toBe('2031-01-01T00:00:00.000Z');
    const stored = await subgraph.store.collections.events.findOne({ artistId: 'a-dates' }, { sort: { seq: -1 } });
    expect(stored?.expiresAt).toEqual(new Date('2031-01-01T00:00:00.000Z'));
  });
});
