import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';

// The playground's IDE loads the schema with the standard introspection query: the request limits
// must let it through where introspection is on, and nothing answers it where it is off.

describe('introspection and the request limits', () => {
  let development: TestSubgraph;
  let production: TestSubgraph;

  beforeAll(async () => {
    development = await startTestSubgraph();
    production = await startTestSubgraph({ store: development.store, introspection: false });
  });
  afterAll(async () => {
    await production.stop();
    await development.stop();
  });

  it("answers an IDE's full introspection query where introspection is on", async () => {
    const res = await development.query(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
    expect(res.errors).toBeUndefined();
    expect(res.data.__schema.types.map((t: { name: string }) => t.name)).toContain('ConsentDecision');
  });

  it('refuses the same query where introspection is off', async () => {
    const res = await production.query(getIntrospectionQuery());
    expect(res.data?.__schema).toBeUndefined();
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
