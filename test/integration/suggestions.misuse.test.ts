import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken } from '../helpers/tokens.js';

// Each mistake is one graphql-js answers with a "Did you mean …?" naming a part of the schema.
const MISTAKES: ReadonlyArray<{ what: string; query: string; variables?: Record<string, unknown>; code: string; names: string }> = [
  {
    what: 'a misspelt enum literal',
    query: '{ artistsAllowing(purpose: AI_TRAININ) { edges { cursor } } }',
    code: 'GRAPHQL_VALIDATION_FAILED',
    names: 'AI_TRAININ',
  },
  {
    what: 'a misspelt enum value in variables',
    query: 'query Q($p: ConsentPurpose!) { artistsAllowing(purpose: $p) { edges { cursor } } }',
    variables: { p: 'AI_TRAININ' },
    code: 'BAD_USER_INPUT',
    names: 'AI_TRAININ',
  },
  {
    what: 'a misspelt field',
    query: '{ consentChange { edges { cursor } } }',
    code: 'GRAPHQL_VALIDATION_FAILED',
    names: 'consentChange',
  },
  {
    what: 'a misspelt argument name',
    query: '{ consentChanges(firs: 5) { edges { cursor } } }',
    code: 'GRAPHQL_VALIDATION_FAILED',
    names: 'firs',
  },
  {
    what: 'a misspelt type in a variable definition',
    query: 'query Q($p: ConsentPurpos!) { artistsAllowing(purpose: $p) { edges { cursor } } }',
    variables: { p: 'AI_TRAINING' },
    code: 'GRAPHQL_VALIDATION_FAILED',
    names: 'ConsentPurpos',
  },
  {
    what: 'a misspelt input field in variables',
    query: 'mutation M($input: SetConsentInput!) { setConsent(input: $input) { revision } }',
    variables: { input: { subjec: { artistId: 'a-1' }, purpose: 'AI_TRAINING', choice: 'DENY', termsVersion: 't' } },
    code: 'BAD_USER_INPUT',
    names: 'subjec',
  },
];

describe('"Did you mean" suggestions where introspection is off', () => {
  let production: TestSubgraph;
  let development: TestSubgraph;
  let token: string;

  beforeAll(async () => {
    production = await startTestSubgraph({ introspection: false });
    development = await startTestSubgraph({ store: production.store });
    token = await adminToken();
  });
  afterAll(async () => {
    await development?.stop();
    await production?.stop();
  });

  const messages = (res: GraphQLResponse) => (res.errors ?? []).map((e) => e.message);

  for (const mistake of MISTAKES) {
    it(`answers ${mistake.what} with ${mistake.code}, naming the mistake but suggesting nothing`, async () => {
      const res = await production.query(mistake.query, mistake.variables, token);
      expect(res.errors?.[0]?.extensions?.code).toBe(mistake.code);
      expect(messages(res).join('\n')).toContain(mistake.names);
      expect(messages(res).filter((m) => /Did you mean/i.test(m))).toEqual([]);
    });
  }

  it('keeps the suggestions where introspection is on, so developers still get them', async () => {
    for (const mistake of MISTAKES) {
      const res = await development.query(mistake.query, mistake.variables, token);
      expect(messages(res).join('\n'), mistake.what).toMatch(/Did you mean/);
    }
  });
});
