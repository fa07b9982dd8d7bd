import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** How operations are executed: compiled by graphql-jit (the default), or interpreted by graphql-js. */
export type Executor = 'jit' | 'graphql-js';

/**
 * Runs the schema's operations compiled to JavaScript by graphql-jit, through Apollo Server's
 * executor hook (its `gateway` option, the one public way to replace graphql-js's `execute`;
 * parsing, validation, the request limits and every plugin still run as before).
 *
 * Why: a batch request resolves hundreds of fields, and interpreting them was the largest share of
 * the subgraph's CPU; compiled, a request costs far less (figures in BENCHMARKS.md). Each operation is compiled
 * once per parsed document, which Apollo caches by query text; the compiled form lives exactly as
 * long as that document. An operation graphql-jit cannot compile is executed by graphql-js, and
 * `test/integration/compiledExecution.test.ts` checks that both give byte-identical answers.
 */
export function compiledExecution(schema: GraphQLSchema): GatewayInterface {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  const compiledFor = (document: DocumentNode, operationName: string | null): CompiledQuery | null => {
    let byName = compiled.get(document);
    if (byName === undefined) compiled.set(document, (byName = new Map()));
    const key = operationName ?? '';
    let query = byName.get(key);
    if (query === undefined) {
      const result = compileQuery(schema, document, operationName ?? undefined);
      query = isCompiledQuery(result) ? result : null;
      byName.set(key, query);
    }
    return query;
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return {
        schema,
        executor: async (request) => {
          const query = compiledFor(request.document, request.operationName);
          const variables = request.request.variables ?? {};
          const interpret = () =>
            execute({ schema, document: request.document, operationName: request.operationName, variableValues: variables, contextValue: request.context });
          if (query === null) return interpret();
          const result: ExecutionResult = await query.query(undefined, request.context, variables);
          if (result.errors === undefined) return result;
          // No `data` at all: the variables were refused before anything ran. graphql-js refuses
          // them again with the errors Apollo recognises as BAD_USER_INPUT (they carry the
          // variable's AST node, which graphql-jit's don't).
          if (!('data' in result)) return interpret();
          return { ...result, errors: result.errors.map(asGraphQLError) };
        },
      };
    },
    async stop() {},
  };
}

// graphql-jit's errors only look like graphql-js's (no `extensions` object unless the cause had
// one, which Apollo's error formatting reads); rebuilt as graphql-js errors with the same message,
// locations, path and cause, they go through formatError exactly as the interpreter's do.
function asGraphQLError(error: GraphQLError): GraphQLError {
  const rebuilt = new GraphQLError(error.message, { path: error.path, originalError: error.originalError, extensions: error.extensions });
  (rebuilt as { locations: GraphQLError['locations'] }).locations = error.locations;
  return rebuilt;
}
