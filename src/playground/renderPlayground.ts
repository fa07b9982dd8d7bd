import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

/** GraphiQL's options (title, tabs with their queries and headers, endpoint, …). */
export type PlaygroundOptions = NonNullable<Parameters<typeof renderGraphiQL>[0]>;

/**
 * Renders the GraphiQL page as one self-contained HTML document (about 9 MB: scripts, styles and
 * workers inlined, no CDN), so the playground works offline and behind strict company networks.
 */
export function renderPlayground(options: PlaygroundOptions): string {
  return renderGraphiQL(options);
}
