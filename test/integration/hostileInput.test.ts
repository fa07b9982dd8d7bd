import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { REQUEST_LIMITS } from '../../src/limits.js';
import { assertNoLeak } from '../helpers/assertNoLeak.js';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken } from '../helpers/tokens.js';
import { PRODUCTION_ENV } from '../helpers/environments.js';

const ENTITIES = /* GraphQL */ `
  query Entities($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Artist { id consent { decisions { purpose allowed basis } } }
      ... on Track { id consent { decisions { purpose allowed basis } } }
    }
  }`;

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { revision event { id } decision { allowed } } }`;
const CLEAR = /* GraphQL */ `
  mutation Clear($input: ClearConsentInput!) { clearConsent(input: $input) { revision event { id } } }`;
const DECISIONS = /* GraphQL */ `
  query Decisions($requests: [DecisionRequest!]!, $purpose: ConsentPurpose!) {
    consentDecisions(requests: $requests, purpose: $purpose) { purpose allowed basis }
  }`;

const OPERATORS = [{ $ne: null }, { $gt: '' }, { $regex: '.*' }];
const MALFORMED_IDS = ['', ' ', 'a'.repeat(129), 'a/b', '../etc', 'a b', 'a\u0000b', '-leading-dash', 'émile', '<script>', true, ['a'], { id: 'a' }];

const setInput = (subject: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  input: { subject, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1', ...extra },
});

describe('hostile input', () => {
  let subgraph: TestSubgraph;
  let production: TestSubgraph;
  let reader: string;
  let admin: string;

  // Runs one attack: counts the database reads it causes and checks that nothing was written and
  // that the answer grants nothing and leaks nothing.
  async function attack(run: () => Promise<GraphQLResponse>): Promise<{ res: GraphQLResponse; reads: number }> {
    const before = await subgraph.store.collections.events.countDocuments({});
    const { result: res, reads } = await countReads(subgraph.store, run);
    expect(await subgraph.store.collections.events.countDocuments({})).toBe(before);
    expect(JSON.stringify(res.data ?? null)).not.toContain('"allowed":true');
    assertNoLeak(res);
    return { res, reads };
  }

  function codesOf(res: GraphQLResponse): string[] {
    expect(res.errors?.length ?? 0, JSON.stringify(res)).toBeGreaterThan(0);
    return [...new Set(res.errors!.map((e) => e.extensions?.code ?? 'NONE'))];
  }

  async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, method = 'POST', path = '') {
    const response = await fetch(subgraph.url + path, { method, headers: { authorization: `Bearer ${reader}`, ...headers }, body: method === 'GET' ? undefined : body });
    const text = await response.text();
    assertNoLeak(text);
    return { status: response.status, text, json: JSON.parse(text) as GraphQLResponse };
  }

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    production = await startTestSubgraph({ store: subgraph.store, introspection: false });
    reader = await readToken();
    admin = await adminToken();
    // Something to find, so an injected operator that slipped through would have data to match.
    const seeded = await subgraph.query(SET, setInput({ artistId: 'a-victim' }), admin);
    expect(seeded.errors).toBeUndefined();
  });
  afterAll(async () => {
    await production?.stop();
    await subgraph?.stop();
  });

  describe('operator objects in _entities representations', () => {
    const cases: Array<[string, Record<string, unknown>]> = OPERATORS.flatMap((op) => [
      [`Artist.id ${JSON.stringify(op)}`, { __typename: 'Artist', id: op }],
      [`Track.id ${JSON.stringify(op)}`, { __typename: 'Track', id: op, artist: { id: 'a-victim' } }],
      [`Track.artist.id ${JSON.stringify(op)}`, { __typename: 'Track', id: 't-1', artist: { id: op } }],
      [`Track.artist ${JSON.stringify(op)}`, { __typename: 'Track', id: 't-1', artist: op }],
    ]);
    it.each(cases)('refuses %s with BAD_USER_INPUT and no database read', async (_name, representation) => {
      const { res, reads } = await attack(() => subgraph.query(ENTITIES, { representations: [representation] }, reader));
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      expect(reads).toBe(0);
    });
  });

  describe('operator objects in id arguments', () => {
    const cases: Array<[string, string, Record<string, unknown>, string]> = OPERATORS.flatMap((op) => [
      [`setConsent subject.artistId ${JSON.stringify(op)}`, SET, setInput({ artistId: op }), admin],
      [`setConsent subject.trackId ${JSON.stringify(op)}`, SET, setInput({ artistId: 'a-victim', trackId: op }), admin],
      [`clearConsent subject.artistId ${JSON.stringify(op)}`, CLEAR, { input: { subject: { artistId: op }, purpose: 'AI_TRAINING' } }, admin],
      [`consentDecisions requests.artistId ${JSON.stringify(op)}`, DECISIONS, { requests: [{ artistId: op }], purpose: 'AI_TRAINING' }, reader],
      [`consentDecisions requests.trackId ${JSON.stringify(op)}`, DECISIONS, { requests: [{ artistId: 'a-victim', trackId: op }], purpose: 'AI_TRAINING' }, reader],
    ] as Array<[string, string, Record<string, unknown>, string]>);
    it.each(cases)('refuses %s with BAD_USER_INPUT and no database read', async (_name, query, variables, token) => {
      const { res, reads } = await attack(() => subgraph.query(query, variables, token));
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      expect(reads).toBe(0);
    });

    it('refuses an operator object written into the query text', async () => {
      const { res, reads } = await attack(() =>
        subgraph.query('mutation { setConsent(input: {subject: {artistId: {ne: null}}, purpose: AI_TRAINING, choice: ALLOW, termsVersion: "t"}) { revision } }', {}, admin),
      );
      expect(codesOf(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(reads).toBe(0);
    });
  });

  describe('over-long and malformed ids', () => {
    it.each(MALFORMED_IDS.map((id) => [JSON.stringify(id).slice(0, 40), id]))('refuses the id %s everywhere with BAD_USER_INPUT and no database read', async (_name, id) => {
      const attempts: Array<() => Promise<GraphQLResponse>> = [
        () => subgraph.query(ENTITIES, { representations: [{ __typename: 'Artist', id }] }, reader),
        () => subgraph.query(ENTITIES, { representations: [{ __typename: 'Track', id, artist: { id: 'a-victim' } }] }, reader),
        () => subgraph.query(ENTITIES, { representations: [{ __typename: 'Track', id: 't-1', artist: { id } }] }, reader),
        () => subgraph.query(SET, setInput({ artistId: id }), admin),
        () => subgraph.query(SET, setInput({ artistId: 'a-victim', trackId: id }), admin),
        () => subgraph.query(CLEAR, { input: { subject: { artistId: id }, purpose: 'AI_TRAINING' } }, admin),
        () => subgraph.query(DECISIONS, { requests: [{ artistId: id }], purpose: 'AI_TRAINING' }, reader),
      ];
      for (const run of attempts) {
        const { res, reads } = await attack(run);
        expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
        expect(reads).toBe(0);
      }
    });
  });

  it('refuses unknown purposes in variables and in the query text', async () => {
    const inVariables = await attack(() => subgraph.query(SET, { input: { ...setInput({ artistId: 'a-victim' }).input, purpose: 'EVERYTHING' } }, admin));
    expect(codesOf(inVariables.res)).toEqual(['BAD_USER_INPUT']);
    expect(inVariables.reads).toBe(0);
    const inDecisions = await attack(() => subgraph.query(DECISIONS, { requests: [{ artistId: 'a-victim' }], purpose: 'ai_training' }, reader));
    expect(codesOf(inDecisions.res)).toEqual(['BAD_USER_INPUT']);
    expect(inDecisions.reads).toBe(0);
    const inText = await attack(() =>
      subgraph.query('{ _entities(representations: [{__typename: "Artist", id: "a-victim"}]) { ... on Artist { consent { decision(purpose: EVERYTHING) { allowed } } } } }', {}, reader),
    );
    expect(codesOf(inText.res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(inText.reads).toBe(0);
  });

  it('refuses 1001 representations with BAD_USER_INPUT before any read', async () => {
    const representations = Array.from({ length: 1001 }, (_, i) => ({ __typename: 'Track', id: `t-${i}`, artist: { id: 'a-victim' } }));
    const { res, reads } = await attack(() => subgraph.query(ENTITIES, { representations }, reader));
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.message).toContain('at most 1000 representations');
    expect(reads).toBe(0);
  });

  it('refuses a deep introspection query', async () => {
    const deep = '{ __schema { types { fields { type ' + '{ ofType '.repeat(30) + '{ name }' + ' }'.repeat(30) + ' } } } }';
    const { res, reads } = await attack(() => subgraph.query(deep, {}, reader));
    expect(codesOf(res).every((code) => code === 'BAD_USER_INPUT' || code === 'GRAPHQL_VALIDATION_FAILED')).toBe(true);
    expect(res.errors!.map((e) => e.message).join(' ')).toMatch(/depth/i);
    expect(res.data).toBeUndefined();
    expect(reads).toBe(0);
  });

  it(`refuses an alias flood beyond ${REQUEST_LIMITS.maxAliases} aliases before any read`, async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: _entities(representations: $r) { __typename }`).join('\n');
    const { res, reads } = await attack(() => subgraph.query(`query Flood($r: [_Any!]!) { ${aliases} }`, { r: [{ __typename: 'Artist', id: 'a-victim' }] }, reader));
    expect(res.data).toBeUndefined();
    expect(res.errors!.map((e) => e.message).join(' ')).toMatch(/alias/i);
    expect(reads).toBe(0);
  });

  it('refuses a directive flood and a token flood', async () => {
    const directives = await attack(() => subgraph.query(`{ _service ${'@include(if: true) '.repeat(50)} { sdl } }`, {}, reader));
    expect(directives.res.status).toBe(400);
    expect(codesOf(directives.res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(directives.res.errors![0]!.message).toMatch(/^Request limit: Directives limit of 20/);
    const tokens = await attack(() => subgraph.query(`{ _service { ${'sdl '.repeat(5000)} } }`, {}, reader));
    expect(tokens.res.status).toBe(400);
    expect(codesOf(tokens.res)).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(tokens.res.errors![0]!.message).toMatch(/^The operation text has more than 2000 tokens/);
  });

  it('refuses an oversized request body with 413 and a JSON error', async () => {
    const body = JSON.stringify({ query: '{ _service { sdl } }', variables: { pad: 'x'.repeat(3 * 1024 * 1024) } });
    const { res } = await attack(async () => {
      const r = await post(body);
      expect(r.status).toBe(413);
      return r.json;
    });
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a batched JSON array of operations', async () => {
    const body = JSON.stringify([
      { query: ENTITIES, variables: { representations: [{ __typename: 'Artist', id: 'a-victim' }] } },
      { query: ENTITIES, variables: { representations: [{ __typename: 'Artist', id: 'a-victim' }] } },
    ]);
    const { res, reads } = await attack(async () => {
      const r = await post(body);
      expect(r.status).toBe(400);
      return r.json;
    });
    expect(codesOf(res)).toEqual(['BAD_REQUEST']);
    expect(res.errors![0]!.message).toMatch(/batching/i);
    expect(reads).toBe(0);
  });

  it('refuses a body that is not JSON', async () => {
    const r = await post('{"query": ');
    expect(r.status).toBe(400);
    expect(codesOf(r.json)).toEqual(['BAD_REQUEST']);
  });

  it('refuses GET requests and text/plain posts without a CSRF preflight header, but serves a preflighted GET', async () => {
    const query = encodeURIComponent('query Sdl { _service { sdl } }');
    const plainGet = await post('', {}, 'GET', `?query=${query}`);
    expect(plainGet.status).toBe(400);
    expect(codesOf(plainGet.json)).toEqual(['BAD_REQUEST']);
    expect(plainGet.json.errors![0]!.message).toMatch(/CSRF/);

    const textPlain = await post(JSON.stringify({ query: '{ _service { sdl } }' }), { 'content-type': 'text/plain' });
    expect(textPlain.status).toBe(400);
    expect(codesOf(textPlain.json)).toEqual(['BAD_REQUEST']);

    const preflighted = await post('', { 'apollo-require-preflight': 'true' }, 'GET', `?query=${query}`);
    expect(preflighted.status).toBe(200);
    expect(preflighted.json.data._service.sdl).toContain('type Track');
  });

  it('refuses a mutation sent as GET even with a preflight header', async () => {
    const mutation = encodeURIComponent('mutation { clearConsent(input: {subject: {artistId: "a-victim"}, purpose: AI_TRAINING}) { revision } }');
    const { res } = await attack(async () => (await post('', { 'apollo-require-preflight': 'true', authorization: `Bearer ${admin}` }, 'GET', `?query=${mutation}`)).json);
    expect(codesOf(res)).toEqual(['BAD_REQUEST']);
  });

  describe('in production (introspection off)', () => {
    it('turns introspection off by default when NODE_ENV=production', () => {
      const production = PRODUCTION_ENV;
      expect(loadConfig(production).introspection).toBe(false);
      expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).introspection).toBe(true);
      expect(loadConfig({}).introspection).toBe(true);
      expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'maybe' })).toThrow(/GRAPHQL_INTROSPECTION/);
    });

    it('refuses __schema and __type introspection', async () => {
      for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Consent") { fields { name } } }']) {
        const res = await production.query(query, {}, reader);
        expect(res.data).toBeUndefined();
        expect(codesOf(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
        expect(res.errors![0]!.message).toMatch(/introspection/i);
      }
    });

    it('keeps serving _service { sdl } to the gateway', async () => {
      const res = await production.query('{ _service { sdl } __typename }', {}, reader);
      expect(res.errors).toBeUndefined();
      expect(res.data._service.sdl).toContain('type Artist');
    });

    it('does not suggest field names in errors', async () => {
      const res = await production.query('{ _servic { sdl } }', {}, reader);
      expect(codesOf(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(res.errors![0]!.message).not.toMatch(/Did you mean/);
    });
  });
});
