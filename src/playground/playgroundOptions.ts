import type { PlaygroundOptions } from './renderPlayground.js';

/** One ready-to-run operation shown as a playground tab (ids inlined, so it runs as it stands). */
export interface ExampleOperation {
  readonly title: string;
  readonly query: string;
}

/**
 * GraphiQL options with one tab per example and, in development, `Authorization: Bearer <token>`
 * filled in on every tab. Pass no token in production: nobody's credentials belong in a page.
 */
export function playgroundOptions(title: string, examples: readonly ExampleOperation[], token?: string): PlaygroundOptions {
  const headers = token === undefined ? '{}' : JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2);
  return {
    title,
    headers,
    defaultHeaders: headers,
    defaultQuery: examples[0]?.query,
    defaultTabs: examples.map((example) => ({ query: example.query, headers })),
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false,
  };
}
