import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signGatewayRequest } from '../../src/auth/verifyGatewaySignature.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { countReads } from '../helpers/database.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { postGraphQL, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// REQUIRE_GATEWAY_SIGNATURE on: the subgraph answers only requests Hive Gateway signed with the
// shared secret (its `hmacSignature` option), so nobody can bypass the gateway's authorization.

const SIGNING_SECRET = 'gateway-signing-secret-of-at-least-32-chars';
const ENTITIES = /* GraphQL */ `
  query ($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on Track { id consent { decision(purpose: VOICE_REPLICATION) { allowed basis } } } }
  }`;
const REPS = { reps: [{ __typename: 'Track', id: 't1', artist: { id: 'a1' } }] };

describe('gateway signature required by the subgraph', () => {
  let supergraph: RunningSupergraph;
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    supergraph = await startSupergraph({
      subgraph: { gatewaySignatureSecret: SIGNING_SECRET },
      hmacSecret: SIGNING_SECRET,
      catalog: { artists: [{ id: 'a1', name: 'Ada' }], tracks: [{ id: 't1', title: 'First', artistId: 'a1' }] },
    });
    subgraph = supergraph.subgraph;
    reader = await readToken();
  });

  afterAll(async () => {
    await supergraph?.stop();
  });

  it('answers requests that came through Hive Gateway (signed upstream requests pass)', async () => {
    const res = await postGraphQL(supergraph.url, '{ track(id: "t1") { title consent { decision(purpose: VOICE_REPLICATION) { allowed basis } } } }', {}, reader);

    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ track: { title: 'First', consent: { decision: { allowed: false, basis: 'DEFAULT' } } } });
  });

  it('refuses a direct unsigned request with UNAUTHENTICATED (HTTP 401) before reading the database', async () => {
    const { result: res, reads } = await countReads(subgraph.store, () => postGraphQL(subgraph.url, ENTITIES, REPS, reader));

    expect(res.status).toBe(401);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    expect(res.errors?.[0]?.message).toMatch(/signed by the gateway/);
    expect(reads).toBe(0);
  });

  it('refuses a request signed with another secret', async () => {
    const forged = signGatewayRequest('not-the-gateway-secret-but-32-chars-long', { query: ENTITIES, variables: REPS });
    const res = await postGraphQL(subgraph.url, ENTITIES, REPS, reader, { extensions: { 'hmac-signature': forged } });

    expect(res.status).toBe(401);
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    expect(res.errors?.[0]?.message).toMatch(/does not match/);
  });

  it('refuses a genuine signature replayed with other variables', async () => {
    const signature = signGatewayRequest(SIGNING_SECRET, { query: ENTITIES, variables: REPS });
    const otherReps = { reps: [{ __typename: 'Track', id: 't2', artist: { id: 'a1' } }] };
    const res = await postGraphQL(subgraph.url, ENTITIES, otherReps, reader, { extensions: { 'hmac-signature': signature } });

    expect(res.status).toBe(401);
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
  });

  it('refuses unsigned GET requests and a signature of the wrong type', async () => {
    const get = await fetch(`${subgraph.url}?query=${encodeURIComponent('{ _service { sdl } }')}`, {
      headers: { authorization: `Bearer ${reader}`, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(401);
    expect(await get.json()).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })] });

    const res = await postGraphQL(subgraph.url, ENTITIES, REPS, reader, { extensions: { 'hmac-signature': 42 } });
    expect(res.status).toBe(401);
  });

  it('accepts a request signed exactly as the gateway signs it, and still checks the bearer token', async () => {
    const signature = signGatewayRequest(SIGNING_SECRET, { query: ENTITIES, variables: REPS });
    const signed = { extensions: { 'hmac-signature': signature } };

    const ok = await postGraphQL(subgraph.url, ENTITIES, REPS, reader, signed);
    expect(ok.errors).toBeUndefined();
    expect(ok.data._entities).toEqual([{ id: 't1', consent: { decision: { allowed: false, basis: 'DEFAULT' } } }]);

    const unauthenticated = await postGraphQL(subgraph.url, ENTITIES, REPS, undefined, signed);
    expect(unauthenticated.data._entities).toEqual([{ id: 't1', consent: null }]);
    expect(unauthenticated.errors).toEqual([expect.objectContaining({ path: ['_entities', 0, 'consent'], extensions: { code: 'UNAUTHENTICATED' } })]);
  });
});

describe('gateway signature configuration', () => {
  it('refuses to start with REQUIRE_GATEWAY_SIGNATURE=true but no GATEWAY_SIGNATURE_SECRET, or a short secret', () => {
    expect(() => loadConfig({ REQUIRE_GATEWAY_SIGNATURE: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ REQUIRE_GATEWAY_SIGNATURE: 'true' })).toThrow(/GATEWAY_SIGNATURE_SECRET/);
    expect(() => loadConfig({ GATEWAY_SIGNATURE_SECRET: 'short' })).toThrow(/at least 32 characters/);
  });

  it('is off unless switched on, and on with a secret when REQUIRE_GATEWAY_SIGNATURE=true', () => {
    expect(loadConfig({}).requireGatewaySignature).toBe(false);
    const on = loadConfig({ REQUIRE_GATEWAY_SIGNATURE: 'true', GATEWAY_SIGNATURE_SECRET: SIGNING_SECRET });
    expect(on.requireGatewaySignature).toBe(true);
    expect(on.gatewaySignatureSecret).toBe(SIGNING_SECRET);
  });
});
