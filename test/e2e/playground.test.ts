import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../dev/demo/seedDemo.js';
import { loadConfig } from '../../src/config.js';
import { GATEWAY_EXAMPLES, SUBGRAPH_EXAMPLES } from '../../dev/demo/exampleOperations.js';
import { playgroundOptions } from '../../src/playground/playgroundOptions.js';
import { renderPlayground } from '../../src/playground/renderPlayground.js';
import { DEMO_CATALOG } from '../fixtures/catalogSubgraph.js';
import { PRODUCTION_ENV } from '../helpers/environments.js';
import { startSupergraph, type RunningSupergraph } from '../helpers/gateway.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken, TEST_SECRET, writeToken } from '../helpers/tokens.js';

// Debian's Chromium drives the gateway's GraphiQL page: it must load entirely from 127.0.0.1
// (scripts, styles and workers are inlined; nothing from a CDN), run an example and show a decision.

const CHROMIUM = '/usr/bin/chromium';

describe("the gateway's playground in a real browser, offline", () => {
  let supergraph: RunningSupergraph;
  let browser: Browser;

  beforeAll(async () => {
    supergraph = await startSupergraph({
      catalog: DEMO_CATALOG,
      playground: playgroundOptions('Consent supergraph', GATEWAY_EXAMPLES, await writeToken(TEST_SECRET, ['artist-aurora'])),
    });
    await seedDemo(supergraph.subgraph.store);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await supergraph?.stop();
  });

  it('loads GraphiQL with no request leaving 127.0.0.1, runs the first example and shows a decision', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const graphqlResponses: Array<Promise<unknown>> = [];
    page.on('response', (response) => {
      if (response.request().method() === 'POST') graphqlResponses.push(response.json());
    });

    const response = await page.goto(supergraph.url, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/text\/html/);

    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(() => page.locator('.graphiql-editor').first().innerText(), { timeout: 30_000 }).toContain('DecisionsForTrack');
    await run.click();

    const result = page.locator('.result-window');
    await expect.poll(() => result.innerText(), { timeout: 30_000 }).toContain('"allowed"');
    // Monaco renders spaces as no-break spaces.
    const shown = (await result.innerText()).replace(/\u00a0/g, ' ');
    expect(shown).toContain('"purpose": "AI_TRAINING"');
    expect(shown).toContain('"basis": "EXPLICIT"');
    expect(shown).not.toContain('"errors"');

    const bodies = await Promise.all(graphqlResponses);
    const execution = bodies.find((b) => (b as { data?: { track?: unknown } }).data?.track !== undefined) as
      | { data: { track: { title: string; consent: { decisions: unknown[] } } } }
      | undefined;
    expect(execution?.data.track.title).toBe('Undertow I');
    expect(execution?.data.track.consent.decisions).toHaveLength(9);

    const external = requested.filter((url) => !/^(http:\/\/127\.0\.0\.1[:/]|data:|blob:)/.test(url));
    expect(external).toEqual([]);
    expect(requested.some((url) => url.startsWith('http://127.0.0.1'))).toBe(true);
    await context.close();
  });
});

describe("the subgraph's own landing page", () => {
  let token: string;
  let withPage: TestSubgraph;
  let withoutPage: TestSubgraph;

  beforeAll(async () => {
    token = await readToken();
    withPage = await startTestSubgraph({ landingPage: renderPlayground(playgroundOptions('Consent subgraph', SUBGRAPH_EXAMPLES, token)) });
    withoutPage = await startTestSubgraph({ store: withPage.store });
  });

  afterAll(async () => {
    await withoutPage?.stop();
    await withPage?.stop();
  });

  const get = (url: string, accept: string) => fetch(url, { headers: { accept } });

  it('serves a self-contained GraphiQL page for GET with Accept: text/html, with the examples and the dev token', async () => {
    for (const url of [withPage.url, withPage.url.replace(/graphql$/, '')]) {
      const res = await get(url, 'text/html,application/xhtml+xml,*/*;q=0.8');
      const html = await res.text();

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL');
      expect(html).toContain('_entities(representations:');
      expect(html).toContain('mutation SetConsentAsArtist');
      expect(html).toContain(`Bearer ${token}`);
      // Nothing loaded from elsewhere: no absolute http(s) src or href anywhere in the page.
      expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    }
  });

  it('keeps answering GraphQL on the same URL: a JSON client gets no page', async () => {
    const res = await get(withPage.url, 'application/json');
    expect(res.headers.get('content-type')).not.toMatch(/text\/html/);

    const query = await withPage.query('{ _service { sdl } }');
    expect(query.errors).toBeUndefined();
  });

  it('serves no page when the landing page is off', async () => {
    const res = await get(withoutPage.url, 'text/html');
    expect(res.headers.get('content-type')).not.toMatch(/text\/html/);
    expect(await res.text()).not.toContain('GraphiQL');
  });

  it('turns the landing page off in production unless LANDING_PAGE=true, and on in development', () => {
    const production = { ...PRODUCTION_ENV, MONGODB_URI: 'mongodb://127.0.0.1:1/' };
    expect(loadConfig(production).landingPage).toBe(false);
    expect(loadConfig({ ...production, LANDING_PAGE: 'true' }).landingPage).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development' }).landingPage).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development', LANDING_PAGE: 'false' }).landingPage).toBe(false);
  });
});
