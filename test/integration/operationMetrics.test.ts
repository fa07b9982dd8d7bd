import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_OPERATION_NAMES } from '../../dev/demo/exampleOperations.js';
import { loadConfig } from '../../src/config.js';
import { createMetrics } from '../../src/observability/createMetrics.js';
import { postGraphQL, startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// The operation labels of the request-duration histogram in a /metrics text.
async function operationLabels(url: string): Promise<Set<string>> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return new Set([...text.matchAll(/consent_graphql_request_duration_seconds_count\{operation="([^"]*)"/g)].map((m) => m[1]!));
}

describe('operation-name metrics under a flood of invented names', () => {
  let running: TestSubgraph;
  let reader: string;

  beforeAll(async () => {
    running = await startTestSubgraph({
      metrics: createMetrics(),
      // As `npm start` runs it: METRICS_OPERATION_NAMES plus the playground's example names the harness registers.
      knownOperationNames: [...loadConfig({ METRICS_OPERATION_NAMES: 'RecsDecisions, AdsDecisions' }).metricsOperationNames, ...EXAMPLE_OPERATION_NAMES],
    });
    reader = await readToken();
    for (let i = 0; i < 200; i++) await postGraphQL(running.url, `query Invented${i} { __typename }`, {}, reader);
  });
  afterAll(async () => {
    await running?.stop();
  });

  it('labels at most 100 unregistered names, first come first served, and the rest "other"', async () => {
    const labels = await operationLabels(running.url);
    expect(labels.has('Invented0')).toBe(true);
    expect(labels.has('Invented99')).toBe(true);
    expect(labels.has('Invented100')).toBe(false);
    expect(labels.has('other')).toBe(true);
    expect([...labels].filter((l) => l.startsWith('Invented'))).toHaveLength(100);
  });

  it('still gives a name registered by METRICS_OPERATION_NAMES its own label after the flood', async () => {
    expect((await postGraphQL(running.url, 'query AdsDecisions { __typename }', {}, reader)).errors).toBeUndefined();
    const labels = await operationLabels(running.url);
    expect(labels.has('AdsDecisions')).toBe(true);
    expect(labels.has('RecsDecisions')).toBe(false);
  });

  it("still gives the playground's example operations their own label after the flood", async () => {
    expect(EXAMPLE_OPERATION_NAMES).toEqual(expect.arrayContaining(['DecisionsForTrack', 'ArtistSettings', 'SetConsentAsArtist']));
    await postGraphQL(running.url, 'query DecisionsForTrack { __typename }', {}, reader);
    expect((await operationLabels(running.url)).has('DecisionsForTrack')).toBe(true);
  });

  it('keeps the first 100 unregistered names once their places are taken', async () => {
    await postGraphQL(running.url, 'query Invented5 { __typename }', {}, reader);
    await postGraphQL(running.url, 'query Invented150 { __typename }', {}, reader);
    const text = await (await fetch(new URL('/metrics', running.url))).text();
    expect(text).toMatch(/consent_graphql_request_duration_seconds_count\{operation="Invented5",type="query",outcome="ok"\} 2/);
    expect(text).not.toContain('operation="Invented150"');
  });
});
