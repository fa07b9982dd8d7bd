import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signGatewayRequest } from '../../src/auth/verifyGatewaySignature.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CATALOG_SDL, startCatalogSubgraph, type CatalogSubgraph } from '../fixtures/catalogSubgraph.js';
import { countReads } from '../helpers/database.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { postGraphQL, startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken, TEST_SECRET } from '../helpers/tokens.js';

// REQUIRE_GATEWAY_SIGNATURE on: the subgraph answers only requests Hive Gateway signed with the
// shared secret (its `hmacSignature` option), so nobody can bypass the gateway's authorization.

const SIGNING_SECRET = 'gateway-signing-secret-of-at-least-32-chars';
const ENTITIES = /* GraphQL */ `
  query ($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on Track { id consent { decision(purpose: VOICE_REPLICATION) { allowed basis } } } }
  }`;
const REPS = { reps: [{ __typename: 'Track', id: 't1', artist: { id: 'a1' } }] };

/** Posts a raw GraphQL-over-HTTP body to `url` with a read token. */
async function postBody(url: string, body: unknown, token: string): Promise<GraphQLResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

describe('gateway signature required by the subgraph', () => {
  let subgraph: TestSubgraph;
  let catalog: CatalogSubgraph;
  let gateway: RunningGateway;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph({ gatewaySignatureSecret: SIGNING_SECRET });
    catalog = await startCatalogSubgraph({ artists: [{ id: 'a1', name: 'Ada' }], tracks: [{ id: 't1', title: 'First', artistId: 'a1' }] });
    gateway = await startGateway({
      jwtSecret: TEST_SECRET,
      hmacSecret: SIGNING_SECRET,
      subgraphs: [
        { name: 'catalog', url: catalog.url, sdl: CATALOG_SDL },
        { name: 'consent', url: subgraph.url, sdl: subgraph.sdl },
      ],
    });
    reader = await readToken();
  });

  afterAll(async () => {
    await gateway?.stop();
    await catalog?.stop();
    await subgraph?.stop();
  });

  it('answers requests that came through Hive Gateway (signed upstream requests pass)', async () => {
    const res = await postGraphQL(gateway.url, '{ track(id: "t1") { title consent { decision(purpose: VOICE_REPLICATION) { allowed basis } } } }', {}, reader);

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
    const res = await postBody(subgraph.url, { query: ENTITIES, variables: REPS, extensions: { 'hmac-signature': forged } }, reader);

    expect(res.status).toBe(401);
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
    expect(res.errors?.[0]?.message).toMatch(/does not match/);
  });

  it('refuses a genuine signature replayed with other variables', async () => {
    const signature = signGatewayRequest(SIGNING_SECRET, { query: ENTITIES, variables: REPS });
    const otherReps = { reps: [{ __typename: 'Track', id: 't2', artist: { id: 'a1' } }] };
    const res = await postBody(subgraph.url, { query: ENTITIES, variables: otherReps, extensions: { 'hmac-signature': signature } }, reader);

    expect(res.status).toBe(401);
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })]);
  });

  it('refuses unsigned GET requests and a signature of the wrong type', async () => {
    const get = await fetch(`${subgraph.url}?query=${encodeURIComponent('{ _service { sdl } }')}`, {
      headers: { authorization: `Bearer ${reader}`, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(401);
    expect(await get.json()).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })] });

    const res = await postBody(subgraph.url, { query: ENTITIES, variables: REPS, extensions: { 'hmac-signature': 42 } }, reader);
    expect(res.status).toBe(401);
  });

  it('accepts a request signed exactly as the gateway signs it, and still checks the bearer token', async () => {
    const signature = signGatewayRequest(SIGNING_SECRET, { query: ENTITIES, variables: REPS });
    const signed = { query: ENTITIES, variables: REPS, extensions: { 'hmac-signature': signature } };

    const ok = await postBody(subgraph.url, signed, reader);
    expect(ok.errors).toBeUndefined();
    expect(ok.data._entities).toEqual([{ id: 't1', consent: { decision: { allowed: false, basis: 'DEFAULT' } } }]);

    const unauthenticated = await fetch(subgraph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signed) });
    const body = (await unauthenticated.json()) as GraphQLResponse;
    expect(body.data._entities).toEqual([{ id: 't1', consent: null }]);
    expect(body.errors).toEqual([expect.objectContaining({ path: ['_entities', 0, 'consent'], extensions: { code: 'UNAUTHENTICATED' } })]);
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
