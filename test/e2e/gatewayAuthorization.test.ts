import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedDemo } from '../../dev/demo/seedDemo.js';
import { DEMO_CATALOG } from '../fixtures/catalogSubgraph.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { postGraphQL } from '../helpers/subgraph.js';
import { readToken, signToken, TEST_SECRET, writeToken } from '../helpers/tokens.js';

// The gateway enforces @requiresScopes from the supergraph: a refused consent field is never sent
// to the consent subgraph. The subgraph sits behind a counting pass-through so the test sees every
// request that reaches it.

/** An HTTP pass-through on 127.0.0.1 that records the GraphQL operations sent to `target`. */
async function startRecorder(target: string): Promise<{ url: string; operations: string[]; close(): Promise<void> }> {
  const operations: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    operations.push((JSON.parse(body) as { query: string }).query);
    const upstream = await fetch(target, { method: 'POST', headers: req.headers as Record<string, string>, body });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(await upstream.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    operations,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const TRACK_QUERY = /* GraphQL */ `
  {
    track(id: "track-aurora-2") {
      title
      artist { name consent { decision(purpose: GENERATIVE_AI_TRAINING) { allowed basis scope } } }
      consent { decision(purpose: AI_TRAINING) { allowed basis scope } }
    }
  }`;

const SET_CONSENT = /* GraphQL */ `
  mutation {
    setConsent(input: { subject: { artistId: "artist-cinder" }, purpose: ADVERTISING, choice: DENY, termsVersion: "tos-1" }) { revision }
  }`;

describe('authorization enforced by Hive Gateway before the consent subgraph is called', () => {
  let supergraph: RunningSupergraph;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;

  beforeAll(async () => {
    supergraph = await startSupergraph({
      catalog: DEMO_CATALOG,
      consentUrl: async (subgraphUrl) => (recorder = await startRecorder(subgraphUrl)).url,
    });
    await seedDemo(supergraph.subgraph.store);
  });

  afterAll(async () => {
    await supergraph?.stop();
    await recorder?.close();
  });

  beforeEach(() => {
    recorder.operations.length = 0;
  });

  it('refuses consent without a token with UNAUTHENTICATED and never calls the consent subgraph, while catalog fields resolve', async () => {
    const catalogCalls = supergraph.catalog.requestCount();
    const res = await postGraphQL(supergraph.url, TRACK_QUERY);

    expect(res.data).toEqual({ track: { title: 'Undertow I', artist: { name: 'Aurora Vale', consent: null }, consent: null } });
    expect(res.errors).toEqual([
      expect.objectContaining({ path: ['track', 'artist', 'consent'], extensions: { code: 'UNAUTHENTICATED' } }),
      expect.objectContaining({ path: ['track', 'consent'], extensions: { code: 'UNAUTHENTICATED' } }),
    ]);
    expect(recorder.operations).toEqual([]);
    expect(supergraph.catalog.requestCount()).toBeGreaterThan(catalogCalls);
  });

  it('refuses consent with FORBIDDEN for a token lacking consent:read, without calling the consent subgraph', async () => {
    const noRead = await signToken(TEST_SECRET, { sub: 'ads-service', scope: 'catalog:read consent:write', artist_ids: ['artist-aurora'] });
    const res = await postGraphQL(supergraph.url, TRACK_QUERY, {}, noRead);

    expect(res.data).toEqual({ track: { title: 'Undertow I', artist: { name: 'Aurora Vale', consent: null }, consent: null } });
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['track', 'artist', 'consent'], 'FORBIDDEN'],
      [['track', 'consent'], 'FORBIDDEN'],
    ]);
    expect(recorder.operations).toEqual([]);
  });

  it('sends the same query to the consent subgraph once the token has consent:read, and answers from the demo data', async () => {
    const res = await postGraphQL(supergraph.url, TRACK_QUERY, {}, await readToken());

    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      track: {
        title: 'Undertow I',
        artist: { name: 'Aurora Vale', consent: { decision: { allowed: true, basis: 'EXPLICIT', scope: 'ARTIST' } } },
        consent: { decision: { allowed: false, basis: 'EXPLICIT', scope: 'TRACK' } },
      },
    });
    expect(recorder.operations.length).toBeGreaterThanOrEqual(1);
    expect(recorder.operations.every((op) => op.includes('_entities'))).toBe(true);
  });

  it('refuses setConsent without consent:write or consent:admin at the gateway, without calling the consent subgraph', async () => {
    const anonymous = await postGraphQL(supergraph.url, SET_CONSENT);
    const readOnly = await postGraphQL(supergraph.url, SET_CONSENT, {}, await readToken());

    // generic-auth nulls the refused field in place, even a non-null one, instead of the whole data.
    expect(anonymous.data).toEqual({ setConsent: null });
    expect(anonymous.errors).toEqual([expect.objectContaining({ path: ['setConsent'], extensions: { code: 'UNAUTHENTICATED' } })]);
    expect(readOnly.data).toEqual({ setConsent: null });
    expect(readOnly.errors).toEqual([expect.objectContaining({ path: ['setConsent'], extensions: { code: 'FORBIDDEN' } })]);
    expect(recorder.operations).toEqual([]);
  });

  it('leaves the artist check to the subgraph: a writer for another artist reaches it and is refused there with FORBIDDEN', async () => {
    const otherArtist = await writeToken(TEST_SECRET, ['artist-aurora']);
    const res = await postGraphQL(supergraph.url, SET_CONSENT, {}, otherArtist);

    expect(res.data).toBeNull();
    expect(res.errors).toEqual([expect.objectContaining({ path: ['setConsent'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    expect(recorder.operations).toHaveLength(1);
  });

  it('keeps enforcing in the subgraph itself when called directly (defence in depth)', async () => {
    const res = await postGraphQL(
      supergraph.subgraph.url,
      '{ _entities(representations: [{ __typename: "Artist", id: "artist-aurora" }]) { ... on Artist { consent { decisions { allowed } } } } }',
    );

    expect(res.data).toEqual({ _entities: [{ consent: null }] });
    expect(res.errors).toEqual([expect.objectContaining({ path: ['_entities', 0, 'consent'], extensions: { code: 'UNAUTHENTICATED' } })]);
  });

  it('refuses a correctly signed token that lives 100 years, or never expires, with UNAUTHENTICATED before any subgraph is called', async () => {
    const century = await signToken(TEST_SECRET, { sub: 'test-reader', scope: 'consent:read' }, { expiresIn: '100y' });
    const forever = await new SignJWT({ scope: 'consent:read' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('test-reader')
      .setIssuedAt()
      .sign(new TextEncoder().encode(TEST_SECRET));
    const catalogCalls = supergraph.catalog.requestCount();

    for (const [token, claim] of [[century, /"exp" claim is too far after "iat"/], [forever, /missing required "exp" claim/]] as const) {
      const res = await postGraphQL(supergraph.url, TRACK_QUERY, {}, token);
      expect(res.status).toBe(401);
      expect(res.data ?? null).toBeNull();
      expect(res.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(claim), extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
    }
    expect(recorder.operations).toEqual([]);
    expect(supergraph.catalog.requestCount()).toBe(catalogCalls);
  });
});
