import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_LIMITS } from '../../src/limits.js';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// The amplification probe of issue 10: ten aliases of `_entities`, a thousand representations
// each, anonymous and with a read token asking for decisions and signals. Each must be refused
// before any resolver or database read, without stalling the event loop for other requests.

const ALIASES = 10;
const PER_ALIAS = 1000;
const SELECTION = '... on Track { id consent { decisions { purpose allowed basis scope statement { id actor } } signals { aipref tdmReservation cawg { json } } } }';
const representations = Array.from({ length: PER_ALIAS }, (_, i) => ({ __typename: 'Track', id: `t-${i}`, artist: { id: `a-${i % 50}` } }));
const aliased = (args: (i: number) => string) => Array.from({ length: ALIASES }, (_, i) => `e${i}: _entities(representations: ${args(i)}) { ${SELECTION} }`).join('\n');

// Ten aliases sharing one variable, and ten with a variable each: the same amplification.
const SHARED = `query Amplify($r: [_Any!]!) { ${aliased(() => '$r')} }`;
const SEPARATE = `query Amplify(${Array.from({ length: ALIASES }, (_, i) => `$r${i}: [_Any!]!`).join(', ')}) { ${aliased((i) => `$r${i}`)} }`;
// As literals, ten thousand representations are far over the token limit: the parser stops first.
const literalReps = (n: number) => `[${Array.from({ length: n }, (_, i) => `{__typename: "Track", id: "t-${i}", artist: {id: "a-1"}}`).join(' ')}]`;
const LITERAL = `{ ${aliased(() => literalReps(PER_ALIAS))} }`;

describe('amplification through _entities aliases', () => {
  let subgraph: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    subgraph = await startTestSubgraph({ introspection: false });
    reader = await readToken();
    // A first request compiles and warms what every later one reuses; the probes measure the attacks.
    await subgraph.query(`query ($r: [_Any!]!) { _entities(representations: $r) { ${SELECTION} } }`, { r: representations.slice(0, 10) }, reader);
  });
  afterAll(async () => {
    await subgraph?.stop();
  });

  // Runs `send` while another client probes /health/live every ~5 ms; returns the response, the
  // database reads it caused and the slowest probe.
  async function underProbe(send: () => Promise<GraphQLResponse>): Promise<{ res: GraphQLResponse; reads: number; worstProbeMs: number }> {
    const liveUrl = new URL('/health/live', subgraph.url).toString();
    let running = true;
    let worstProbeMs = 0;
    const probe = (async () => {
      while (running) {
        const started = performance.now();
        await (await fetch(liveUrl)).text();
        worstProbeMs = Math.max(worstProbeMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the probe's connection is warm
    try {
      const { result: res, reads } = await countReads(subgraph.store, send);
      await new Promise((resolve) => setTimeout(resolve, 30));
      return { res, reads, worstProbeMs };
    } finally {
      running = false;
      await probe;
    }
  }

  const tooMany = /at most 1000 representations per request/;
  const attacks: Array<[string, string, () => Record<string, unknown>, string, RegExp]> = [
    ['one variable shared by ten aliases', SHARED, () => ({ r: representations }), 'BAD_USER_INPUT', tooMany],
    ['a variable per alias', SEPARATE, () => Object.fromEntries(Array.from({ length: ALIASES }, (_, i) => [`r${i}`, representations])), 'BAD_USER_INPUT', tooMany],
    ['literal representations', LITERAL, () => ({}), 'GRAPHQL_PARSE_FAILED', new RegExp(`^The operation text has more than ${REQUEST_LIMITS.maxTokens} tokens; send long lists`)],
  ];

  for (const withToken of [false, true]) {
    it.each(attacks)(`refuses %s ${withToken ? 'with a read token' : 'anonymously'} before any read, without stalling /health/live`, async (name, query, variables, code, message) => {
      const { res, reads, worstProbeMs } = await underProbe(async () => subgraph.query(query, variables(), withToken ? reader : undefined));
      console.log(`amplification (${name}, ${withToken ? 'read token' : 'anonymous'}): worst /health/live probe ${worstProbeMs.toFixed(1)} ms (target < 50 ms)`);
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.extensions?.code).toBe(code);
      expect(res.errors![0]!.message).toMatch(message);
      expect(reads).toBe(0);
      // The target is 50 ms; the assertion leaves room for a machine busy with other test files.
      expect(worstProbeMs).toBeLessThan(250);
    });
  }

  it('prices nested fragment spreads once per selection set, as execution runs them, so a spread bomb costs no stall', async () => {
    // 190 × 190 spreads of a fragment with 190 aliases: expanded naively, 6.9 million field visits.
    const spreads = (name: string) => Array.from({ length: 190 }, () => `...${name}`).join(' ');
    const fields = Array.from({ length: 190 }, (_, i) => `a${i}: __typename`).join(' ');
    const query = `query { ...F0 } fragment F0 on Query { ${spreads('F1')} } fragment F1 on Query { ${spreads('F2')} } fragment F2 on Query { ${fields} }`;
    const { res, reads, worstProbeMs } = await underProbe(() => subgraph.query(query, {}));
    console.log(`fragment spread bomb, anonymous: worst /health/live probe ${worstProbeMs.toFixed(1)} ms (target < 50 ms)`);
    expect(res.errors).toBeUndefined();
    expect(Object.keys(res.data)).toHaveLength(190);
    expect(reads).toBe(0);
    expect(worstProbeMs).toBeLessThan(250);
  });

  it('refuses a fragment spread that multiplies representations, however it is written', async () => {
    const query = `query ($r: [_Any!]!) { a: _entities(representations: $r) { ...T } b: _entities(representations: $r) { ...T } } fragment T on Track { id }`;
    const { res, reads } = await underProbe(() => subgraph.query(query, { r: representations.slice(0, 501) }, reader));
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(reads).toBe(0);
  });

  it('refuses 1000 representations asking for more decisions than a request may compute', async () => {
    const aliases = Array.from({ length: 3 }, (_, i) => `d${i}: decisions { allowed }`).join(' ');
    const query = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Track { consent { ${aliases} } } } }`;
    const { res, reads } = await underProbe(() => subgraph.query(query, { r: representations }, reader));
    expect(res.status).toBe(400);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['COST_ESTIMATED_TOO_EXPENSIVE']);
    expect(res.errors![0]!.message).toContain(`more than the ${REQUEST_LIMITS.maxDecisions}`);
    expect(reads).toBe(0);
  });

  it(`lists at most ${REQUEST_LIMITS.maxErrors} errors and counts the rest in one more`, async () => {
    // 1000 representations with a malformed id each: every entry is its own BAD_USER_INPUT error.
    const malformed = representations.map((r) => ({ ...r, id: { $ne: null } }));
    const res = await subgraph.query(`query ($r: [_Any!]!) { _entities(representations: $r) { ... on Track { id } } }`, { r: malformed });
    expect(res.data._entities).toHaveLength(1000);
    expect(res.data._entities.every((entity: unknown) => entity === null)).toBe(true);
    expect(res.errors).toHaveLength(REQUEST_LIMITS.maxErrors + 1);
    expect(res.errors!.at(-1)).toEqual({ message: `900 more errors omitted (BAD_USER_INPUT: 900); a response lists at most ${REQUEST_LIMITS.maxErrors}.`, extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('refuses a response larger than the limit rather than sending it', async () => {
    const small = await startTestSubgraph({ store: subgraph.store, maxResponseBytes: 10_000 });
    try {
      const res = await small.query(`query ($r: [_Any!]!) { _entities(representations: $r) { ${SELECTION} } }`, { r: representations.slice(0, 100) }, reader);
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['RESPONSE_TOO_LARGE']);
      const fits = await small.query(`query ($r: [_Any!]!) { _entities(representations: $r) { ... on Track { id } } }`, { r: representations.slice(0, 2) }, reader);
      expect(fits.errors).toBeUndefined();
    } finally {
      await small.stop();
    }
  });
});
