import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ParseOptions, ValidationRule } from 'graphql';

/**
 * Static limits on a GraphQL operation, checked before anything executes. The gateway's real
 * `_entities` plans (representations travel in variables, the selection is at most six levels deep)
 * stay far inside them; a test sends those plans for 1000 representations through Hive Gateway.
 */
export const REQUEST_LIMITS = Object.freeze({
  /** Deepest selection: `_entities › Track › artist › consent › decisions › statement › id` is 6. */
  maxDepth: 8,
  /** Aliases per operation: each alias is another `_entities` call or decision set to compute. */
  maxAliases: 10,
  /** Directives per operation. */
  maxDirectives: 20,
  /** Lexical tokens of the query text (variables don't count). */
  maxTokens: 2000,
  /** graphql-armor's static cost (objects 2, scalars 1, ×1.5 per level). */
  maxCost: 5000,
});

/**
 * Parse options, validation rules and plugins that refuse deep, aliased, directive-heavy, long or
 * costly operations (HTTP 400, GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED) before execution.
 */
export function createRequestLimits(options: { hideSuggestions: boolean }): {
  parseOptions: ParseOptions;
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin[];
} {
  const armor = new ApolloArmor({
    // Introspection counts too: a deep `ofType { ofType { … } }` chain is the classic depth attack.
    maxDepth: { n: REQUEST_LIMITS.maxDepth, ignoreIntrospection: false },
    maxAliases: { n: REQUEST_LIMITS.maxAliases },
    maxDirectives: { n: REQUEST_LIMITS.maxDirectives },
    // graphql-armor's Apollo token plugin throws from a hook, which Apollo answers with HTTP 500;
    // graphql-js's own parser limit (parseOptions below) fails the parse cleanly with a 400.
    maxTokens: { enabled: false },
    costLimit: { maxCost: REQUEST_LIMITS.maxCost, ignoreIntrospection: false },
    // "Did you mean …" leaks field names when introspection is off; keep it in development.
    blockFieldSuggestion: { enabled: options.hideSuggestions },
  });
  const { validationRules, plugins } = armor.protect();
  return {
    parseOptions: { maxTokens: REQUEST_LIMITS.maxTokens },
    validationRules: validationRules as ValidationRule[],
    plugins: plugins as ApolloServerPlugin[],
  };
}
