import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { estimateCost } from './estimateCost.js';

/**
 * Static limits on a GraphQL operation, checked before anything executes. The gateway's real
 * `_entities` plans (representations travel in variables, the selection is at most six levels deep)
 * stay far inside them; a test sends those plans for 1000 representations through Hive Gateway.
 */
export const REQUEST_LIMITS = Object.freeze({
  /** `_entities` representations one request may carry, across all its `_entities` fields. */
  maxRepresentations: 1000,
  /** Deepest selection: `_entities › Track › artist › consent › decisions › statement › id` is 6. */
  maxDepth: 8,
  /** Aliases per operation: each alias is another `_entities` call or decision set to compute. */
  maxAliases: 10,
  /** Directives per operation. */
  maxDirectives: 20,
  /** Lexical tokens of the query text (variables don't count). */
  maxTokens: 2000,
  /**
   * Demand-control cost (src/estimateCost.ts, the schema's `@cost`/`@listSize`), the same budget
   * the gateway enforces: the feed or a listing at 1000, 1000 tracks with every decision,
   * statement and signal, or 1000 `consentDecisions` requests each fit, and ten of any of them don't.
   */
  maxCost: 50_000,
  /** Consent decisions one operation may compute: 1000 works with `decisions` and `signals` both. */
  maxDecisions: 20_000,
  /**
   * Ledger changes one operation may write, over all its `setConsent`, `clearConsent` and
   * `changeConsents` fields: one full `changeConsents` call, however the operation aliases it.
   */
  maxChanges: 1000,
  /** Errors one response lists; the rest are summarised in one more error. */
  maxErrors: 100,
  /** Deepest introspection selection where introspection is on: GraphiQL's own schema query is 21. */
  maxIntrospectionDepth: 24,
});

/** What {@link createRequestLimits} needs. */
export interface RequestLimitOptions {
  /** Whether "Did you mean …" suggestions are masked. */
  readonly hideSuggestions: boolean;
  /** Whether introspection counts towards the depth limit (it does where introspection is off). */
  readonly limitIntrospection: boolean;
  /** The executable schema, whose `@cost`/`@listSize` price an operation. */
  readonly schema: GraphQLSchema;
  /** Most `_entities` representations one request may carry, across all its `_entities` fields. @default REQUEST_LIMITS.maxRepresentations */
  readonly maxRepresentations?: number;
  /** Largest demand-control cost of one operation. @default REQUEST_LIMITS.maxCost */
  readonly maxCost?: number;
}

/**
 * Parse options, validation rules and plugins that refuse deep, aliased, directive-heavy or long
 * operations (HTTP 400, GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED), and operations over the
 * per-request budgets (HTTP 400, BAD_USER_INPUT or COST_ESTIMATED_TOO_EXPENSIVE), before execution.
 */
export function createRequestLimits(options: RequestLimitOptions): {
  parseOptions: ParseOptions;
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin[];
} {
  const armor = new ApolloArmor({
    // Where introspection is answered (development, or a production playground that enables it) an
    // IDE's own schema query must pass: GraphiQL's is deeper and costlier than any
    // operation the service needs (REQUEST_LIMITS.maxIntrospectionDepth leaves it room). Where it is
    // off, introspection counts too: a deep `ofType { ofType { … } }` chain is the classic attack.
    maxDepth: { n: REQUEST_LIMITS.maxDepth, ignoreIntrospection: !options.limitIntrospection },
    maxAliases: { n: REQUEST_LIMITS.maxAliases },
    maxDirectives: { n: REQUEST_LIMITS.maxDirectives },
    // graphql-armor's Apollo token plugin throws from a hook, which Apollo answers with HTTP 500;
    // graphql-js's own parser limit (parseOptions below) fails the parse cleanly with a 400.
    maxTokens: { enabled: false },
    // Replaced by the demand-control budget below: armor's cost multiplies only literal `first`.
    costLimit: { enabled: false },
    // "Did you mean …" leaks field names when introspection is off; keep it in development.
    blockFieldSuggestion: { enabled: options.hideSuggestions },
  });
  const { validationRules, plugins } = armor.protect();
  return {
    parseOptions: { maxTokens: REQUEST_LIMITS.maxTokens },
    validationRules: [...(validationRules as ValidationRule[]), introspectionDepthRule(REQUEST_LIMITS.maxIntrospectionDepth)],
    plugins: [
      ...(plugins as ApolloServerPlugin[]),
      requestBudgetPlugin({
        schema: options.schema,
        maxRepresentations: options.maxRepresentations ?? REQUEST_LIMITS.maxRepresentations,
        maxCost: options.maxCost ?? REQUEST_LIMITS.maxCost,
        maxDecisions: REQUEST_LIMITS.maxDecisions,
        maxChanges: REQUEST_LIMITS.maxChanges,
        maxErrors: REQUEST_LIMITS.maxErrors,
      }),
    ],
  };
}

/**
 * Bounds a whole request: once the operation is known (after validation, before any resolver or
 * database read) its representations, decisions, changes and cost are estimated with the request's
 * variables and an operation over budget is refused with HTTP 400; a response lists at most
 * `maxErrors` errors, the rest summarised in one.
 */
export function requestBudgetPlugin(budget: {
  schema: GraphQLSchema;
  maxRepresentations: number;
  maxCost: number;
  maxDecisions: number;
  maxChanges: number;
  maxErrors: number;
}): ApolloServerPlugin {
  const listener: GraphQLRequestListener<never> = {
    async didResolveOperation({ document, operation, request }) {
      if (operation === undefined) return; // Apollo itself refuses a request that names no operation it has
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const definition of document.definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      }
      const estimate = estimateCost(budget.schema, operation, fragments, request.variables ?? {});
      if (estimate.representations > budget.maxRepresentations) {
        throw refusal(
          `_entities takes at most ${budget.maxRepresentations} representations per request (all _entities fields together), but got ${estimate.representations}; split the request.`,
          'BAD_USER_INPUT',
        );
      }
      if (estimate.changes > budget.maxChanges) {
        throw refusal(
          `The operation would write ${estimate.changes} consent changes, more than the ${budget.maxChanges} one request may (all setConsent, clearConsent and changeConsents fields together); split the changes over several requests. Nothing was written.`,
          'BAD_USER_INPUT',
        );
      }
      if (estimate.decisions > budget.maxDecisions) {
        throw refusal(
          `The operation would compute ${estimate.decisions} consent decisions, more than the ${budget.maxDecisions} one request may; split the request.`,
          'COST_ESTIMATED_TOO_EXPENSIVE',
          { estimated: estimate.cost, max: budget.maxCost },
        );
      }
      if (estimate.cost > budget.maxCost) {
        throw refusal(
          `Operation estimated cost ${estimate.cost} exceeded configured maximum ${budget.maxCost}; ask for fewer entities, smaller pages or fewer fields.`,
          'COST_ESTIMATED_TOO_EXPENSIVE',
          { estimated: estimate.cost, max: budget.maxCost },
        );
      }
    },
    async willSendResponse({ response }) {
      if (response.body.kind !== 'single') return;
      const { errors } = response.body.singleResult;
      if (errors !== undefined && errors.length > budget.maxErrors) {
        response.body.singleResult.errors = capErrors(errors, budget.maxErrors);
      }
    },
  };
  return { requestDidStart: async () => listener };
}

// The first `max` errors, then one that counts the rest by code and carries the first omitted
// one's code: a client that checks codes still sees why, and every nulled field stays null.
function capErrors(errors: readonly GraphQLFormattedError[], max: number): GraphQLFormattedError[] {
  const omitted = errors.slice(max);
  const byCode = new Map<unknown, number>();
  for (const error of omitted) byCode.set(error.extensions?.code, (byCode.get(error.extensions?.code) ?? 0) + 1);
  const counts = [...byCode].map(([code, count]) => `${String(code)}: ${count}`).join(', ');
  return [
    ...errors.slice(0, max),
    { message: `${omitted.length} more errors omitted (${counts}); a response lists at most ${max}.`, extensions: { code: omitted[0]!.extensions?.code } },
  ];
}

// Apollo answers an error thrown from didResolveOperation with HTTP 500 unless it names a status.
function refusal(message: string, code: string, cost?: { estimated: number; max: number }): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...(cost ? { cost } : {}), http: { status: 400 } } });
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
