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

const SET_CONSENT = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { event { seq } } }`;

describe("the gateway's playground in a real browser, offline", () => {
  let supergraph: RunningSupergraph;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    // The dev write token of the demo: it may change consent for the first demo artist only.
    token = await writeToken(TEST_SECRET, ['artist-aurora']);
    supergraph = await startSupergraph({
      catalog: DEMO_CATALOG,
      playground: playgroundOptions('Consent supergraph', GATEWAY_EXAMPLES, token),
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

  it('runs the subscription example and shows a matching change made through the gateway in the result pane', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requested: string[] = [];
    const streams: string[] = [];
    page.on('request', (request) => {
      requested.push(request.url());
      if (request.headers()['accept']?.includes('text/event-stream')) streams.push(request.url());
    });

    await page.goto(supergraph.url, { waitUntil: 'load' });
    // GraphiQL names each tab after its operation.
    const tab = page.getByRole('tab').filter({ hasText: 'WatchWithdrawals' });
    await tab.waitFor({ state: 'visible', timeout: 30_000 });
    // The tabs are draggable and slide into place after load; a click event on the button selects
    // the tab whatever its position mid-animation.
    await tab.getByRole('button', { name: 'WatchWithdrawals' }).dispatchEvent('click');
    await expect.poll(() => tab.getAttribute('aria-selected'), { timeout: 10_000 }).toBe('true');
    const editor = async () => (await page.locator('.graphiql-editor').first().innerText()).replace(/\u00a0/g, ' ');
    await expect.poll(editor, { timeout: 30_000 }).toContain('subscription WatchWithdrawals');
    const result = page.locator('.result-window');
    const shown = async () => (await result.innerText()).replace(/\u00a0/g, ' ');
    // GraphiQL takes the operation name from the editor a moment after a tab switch: a run before
    // that names the previous tab's operation and the page refuses it, so run again until it starts.
    const run = page.locator('.graphiql-execute-button');
    await expect
      .poll(async () => {
        await run.click();
        await page.waitForTimeout(500);
        return shown();
      }, { timeout: 15_000 })
      .not.toContain('Cannot infer operation');

    // The example subscribes from "now", and the gateway opens its upstream subscription a moment
    // after the browser's stream starts: a change written in between is not pushed, so write again
    // until one arrives, within a bounded wait.
    const seqs: number[] = [];
    const deadline = Date.now() + 30_000;
    while (!(await shown()).includes('"feedCursor"') && Date.now() < deadline) {
      const res = await fetch(supergraph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: SET_CONSENT,
          variables: { input: { subject: { artistId: 'artist-aurora' }, purpose: 'VOICE_REPLICATION', choice: 'DENY', termsVersion: 'tos-2026-11' } },
        }),
      });
      const body = (await res.json()) as { data?: { setConsent: { event: { seq: number } } }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      seqs.push(body.data!.setConsent.event.seq);
      await expect.poll(shown, { timeout: 3_000 }).toContain('"feedCursor"').catch(() => undefined);
    }

    const pane = await shown();
    expect(pane).toContain('"artistId": "artist-aurora"');
    expect(pane).toContain('"purpose": "VOICE_REPLICATION"');
    expect(pane).toContain('"choice": "DENY"');
    expect(pane).toMatch(/"feedCursor": "[^"]+"/);
    expect(pane).not.toContain('"errors"');
    expect(seqs.length).toBeGreaterThan(0);
    // GraphiQL's default fetcher subscribes over SSE on the same URL, which is what the gateway serves.
    expect(streams.some((url) => url.startsWith(supergraph.url))).toBe(true);

    const external = requested.filter((url) => !/^(http:\/\/127\.0\.0\.1[:/]|data:|blob:)/.test(url));
    expect(external).toEqual([]);
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
