import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type ParseOptions, type SelectionSetNode, type ValidationContext, type ValidationRule } from 'graphql';

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
  /** Deepest introspection selection where introspection is on: GraphiQL's own schema query is 21. */
  maxIntrospectionDepth: 24,
});

/**
 * Parse options, validation rules and plugins that refuse deep, aliased, directive-heavy, long or
 * costly operations (HTTP 400, GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED) before execution.
 */
export function createRequestLimits(options: { hideSuggestions: boolean; limitIntrospection: boolean }): {
  parseOptions: ParseOptions;
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin[];
} {
  const armor = new ApolloArmor({
    // Where introspection is answered (development, or a production playground that enables it) an
    // IDE's own schema query must pass: GraphiQL's is 21 levels deep and costs ~87,000. Where it is
    // off, introspection counts too: a deep `ofType { ofType { … } }` chain is the classic attack.
    maxDepth: { n: REQUEST_LIMITS.maxDepth, ignoreIntrospection: !options.limitIntrospection },
    maxAliases: { n: REQUEST_LIMITS.maxAliases },
    maxDirectives: { n: REQUEST_LIMITS.maxDirectives },
    // graphql-armor's Apollo token plugin throws from a hook, which Apollo answers with HTTP 500;
    // graphql-js's own parser limit (parseOptions below) fails the parse cleanly with a 400.
    maxTokens: { enabled: false },
    costLimit: { maxCost: REQUEST_LIMITS.maxCost, ignoreIntrospection: !options.limitIntrospection },
    // "Did you mean …" leaks field names when introspection is off; keep it in development.
    blockFieldSuggestion: { enabled: options.hideSuggestions },
  });
  const { validationRules, plugins } = armor.protect();
  return {
    parseOptions: { maxTokens: REQUEST_LIMITS.maxTokens },
    validationRules: [...(validationRules as ValidationRule[]), introspectionDepthRule(REQUEST_LIMITS.maxIntrospectionDepth)],
    plugins: plugins as ApolloServerPlugin[],
  };
}

/**
 * Refuses an operation whose selection below `__schema` or `__type` is deeper than `max` levels
 * (fragments expanded): what bounds introspection where the general limits let an IDE's schema
 * query through.
 */
export function introspectionDepthRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    // Depth of the deepest field below `set`; `path` holds the fragments being expanded (no cycles).
    const depthOf = (set: SelectionSetNode | undefined, path: Set<string>): number => {
      let deepest = 0;
      for (const selection of set?.selections ?? []) {
        if (selection.kind === Kind.FIELD) {
          deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, path));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, path));
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (fragment === undefined || path.has(name)) continue;
          deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set([...path, name])));
        }
      }
      return deepest;
    };
    return {
      Field(node) {
        if (node.name.value !== '__schema' && node.name.value !== '__type') return;
        const depth = 1 + depthOf(node.selectionSet, new Set());
        if (depth > max) {
          context.reportError(new GraphQLError(`Introspection depth limit of ${max} exceeded, found ${depth}.`, { nodes: [node] }));
        }
      },
    };
  };
}
