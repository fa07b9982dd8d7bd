import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';

/**
 * An Apollo Server plugin that answers, before anything executes, the operations this service does
 * not run: a subscription (OPERATION_NOT_SUPPORTED) and an `operationName` the document does not
 * hold, or none for a document of several operations (OPERATION_RESOLUTION_FAILURE); both HTTP 400.
 */
export function refuseUnservedOperations(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        // Left to the executor, both reach graphql-js or graphql-jit as if they were server faults
        // (a masked INTERNAL_SERVER_ERROR logged with a stack); they are the client's to fix.
        async didResolveOperation({ operation, request }) {
          if (operation === undefined) {
            const message =
              typeof request.operationName === 'string'
                ? `The document has no operation named ${JSON.stringify(request.operationName.slice(0, 100))}.`
                : 'The document holds several operations: say which one to run with operationName.';
            throw clientError(message, 'OPERATION_RESOLUTION_FAILURE');
          }
          if (operation.operation === 'subscription') {
            throw clientError('Subscriptions are not served yet: this subgraph answers queries and mutations; poll consentChanges for the change feed.', 'OPERATION_NOT_SUPPORTED');
          }
        },
      };
    },
  };
}

function clientError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}
