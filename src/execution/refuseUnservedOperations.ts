import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';

/**
 * An Apollo Server plugin that answers, before anything executes, the operations this service does
 * not run over HTTP: a subscription (OPERATION_NOT_SUPPORTED; it is served over WebSocket) and an `operationName` the document does not
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
            throw clientError(SUBSCRIPTION_OVER_HTTP, 'OPERATION_NOT_SUPPORTED');
          }
        },
      };
    },
  };
}

/** What a subscription sent over HTTP is told: where subscriptions are served. */
export const SUBSCRIPTION_OVER_HTTP =
  'Subscriptions are served over WebSocket, not HTTP: open a graphql-ws connection (subprotocol graphql-transport-ws) to this same URL, or subscribe through the gateway.';

function clientError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}
