import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { subscribe } from '../helpers/subscriptionClient.js';
import { readToken, signToken, TEST_SECRET } from '../helpers/tokens.js';

const WATCH = /* GraphQL */ `
  subscription Watch($after: String, $purposes: [ConsentPurpose!]) { consentChanged(after: $after, purposes: $purposes) { id } }`;

describe('Subscription.consentChanged refuses what it must', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
  });
  afterAll(() => subgraph.stop());

  const firstMessage = async (variables: Record<string, unknown>, options: Parameters<typeof subscribe>[3], query = WATCH) => {
    const sub = subscribe(subgraph.url, query, variables, options);
    try {
      const [message] = await sub.waitFor(1);
      return message!;
    } finally {
      await sub.close();
    }
  };

  it('refuses a subscription without a token with UNAUTHENTICATED', async () => {
    const message = await firstMessage({}, {});
    expect(message.data ?? null).toBeNull();
    expect(message.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
  });

  it('refuses a token without consent:read with FORBIDDEN', async () => {
    const token = await signToken(TEST_SECRET, { sub: 'no-read', scope: 'consent:write', artist_ids: [] });
    const message = await firstMessage({}, { token });
    expect(message.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
  });

  it('refuses a badly signed token with UNAUTHENTICATED', async () => {
    const token = await signToken('another-secret-that-is-at-least-32-characters', { sub: 'forged', scope: 'consent:read' });
    const message = await firstMessage({}, { token });
    expect(message.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
  });

  it('refuses a cursor it did not issue with BAD_USER_INPUT', async () => {
    const message = await firstMessage({ after: 'not-a-cursor' }, { token: reader });
    expect(message.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('after'), extensions: { code: 'BAD_USER_INPUT' } })]);
  });

  it('refuses an empty purposes list with BAD_USER_INPUT saying to omit it', async () => {
    const message = await firstMessage({ purposes: [] }, { token: reader });
    expect(message.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('omit'), extensions: { code: 'BAD_USER_INPUT' } })]);
  });

  it('refuses a query sent over WebSocket with OPERATION_NOT_SUPPORTED pointing to HTTP', async () => {
    const message = await firstMessage({}, { token: reader }, '{ consentChanges { edges { cursor } } }');
    expect(message.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/HTTP POST/), extensions: { code: 'OPERATION_NOT_SUPPORTED' } })]);
  });

  it('refuses an invalid document with GRAPHQL_VALIDATION_FAILED', async () => {
    const message = await firstMessage({}, { token: reader }, 'subscription { consentChanged { nope } }');
    expect(message.errors).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
  });
});
