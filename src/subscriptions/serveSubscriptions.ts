import type { IncomingMessage, Server } from 'node:http';
import { getOperationAST, GraphQLError, parse, specifiedRules, validate, type GraphQLFormattedError, type GraphQLSchema, type ParseOptions, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { signedParamsOf, verifyGatewaySignature } from '../auth/verifyGatewaySignature.js';
import type { TokenVerifier } from '../auth/createTokenVerifier.js';
import type { RequestContext } from '../context.js';
import { codeOf } from '../errors.js';
import { isSharedResult, SharedPayloadWebSocket, sharedPayloadReplacer, subscribeShared } from './sharedExecution.js';

/** What the WebSocket transport needs from the server: the same schema, limits, auth and error masking as HTTP. */
export interface SubscriptionTransportDeps {
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly verifier: TokenVerifier;
  readonly parseOptions: ParseOptions;
  readonly validationRules: readonly ValidationRule[];
  /** The server's formatError: every error a subscriber sees goes through it. */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Builds a request context for a verified caller, with the change-feed hub attached. */
  readonly contextFor: (caller: Awaited<ReturnType<TokenVerifier>>) => RequestContext;
  /** Largest message accepted, in bytes. */
  readonly maxPayloadBytes: number;
  readonly gatewaySignatureSecret?: string;
  /** The paths served (the GraphQL endpoint's). */
  readonly paths: readonly string[];
}

/** A running graphql-ws endpoint; `close` ends every connection. */
export interface SubscriptionTransport {
  close(): Promise<void>;
}

/**
 * Serves subscriptions over graphql-ws (subprotocol graphql-transport-ws) on the HTTP server's
 * GraphQL path. The token comes from `connectionParams.authorization` or, failing that, the upgrade
 * request's Authorization header, and is verified per operation as HTTP requests are; only
 * subscriptions are run (queries and mutations go over HTTP, through Apollo's limits and plugins).
 */
export function serveSubscriptions(deps: SubscriptionTransportDeps): SubscriptionTransport {
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayloadBytes, WebSocket: SharedPayloadWebSocket });
  const onUpgrade = (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!deps.paths.includes(path)) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      (ws as SharedPayloadWebSocket).raw = socket;
      wss.emit('connection', ws, req);
    });
  };
  deps.httpServer.on('upgrade', onUpgrade);
  const rules = [...specifiedRules, ...deps.validationRules];
  const format = (error: GraphQLError) => deps.formatError(error.toJSON(), error);
  // Parse and validation messages go through the same masking (suggestions hidden when configured).
  const masked = (message: string, code: string) => new GraphQLError(format(new GraphQLError(message, { extensions: { code } })).message, { extensions: { code } });

  const server = useServer<Record<string, unknown> | undefined>(
    {
      schema: deps.schema,
      onSubscribe: async (ctx, _id, payload) => {
        const refuse = (message: string, code: string) => [new GraphQLError(message, { extensions: { code } })];
        if (deps.gatewaySignatureSecret !== undefined) {
          try {
            verifyGatewaySignature(deps.gatewaySignatureSecret, signedParamsOf('POST', new URLSearchParams(), payload));
          } catch (error) {
            return refuse((error as Error).message, codeOf(error) ?? 'UNAUTHENTICATED');
          }
        }
        let caller;
        try {
          caller = await deps.verifier(authorizationOf(ctx.connectionParams, ctx.extra.request));
        } catch (error) {
          const code = codeOf(error);
          if (code === null) throw error;
          return refuse((error as Error).message, code);
        }
        let document;
        try {
          document = parse(payload.query, deps.parseOptions);
        } catch (error) {
          return [masked((error as Error).message, 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(deps.schema, document, rules);
        if (errors.length > 0) {
          return errors.map((e) => masked(e.message, 'GRAPHQL_VALIDATION_FAILED'));
        }
        const operation = getOperationAST(document, payload.operationName);
        if (operation === null || operation === undefined) {
          return refuse('The document holds no operation of that name, or several operations without an operationName.', 'OPERATION_RESOLUTION_FAILURE');
        }
        if (operation.operation !== 'subscription') {
          return refuse('Only subscriptions are served over WebSocket; send queries and mutations as HTTP POST to this URL.', 'OPERATION_NOT_SUPPORTED');
        }
        return {
          schema: deps.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: deps.contextFor(caller),
        };
      },
      // Each event's result is executed once for every subscriber who would get the same answer,
      // and serialised once (sharedExecution.ts); a shared result holds no errors and is sent as is.
      subscribe: subscribeShared,
      jsonMessageReplacer: sharedPayloadReplacer,
      // Every error a subscriber sees is masked exactly as an HTTP response's.
      onNext: (_ctx, _id, _payload, _args, result) => (isSharedResult(result) ? result : result.errors === undefined ? undefined : { ...result, errors: result.errors.map(format) }),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => ({ message: e.message, extensions: { code: typeof e.extensions?.code === 'string' ? e.extensions.code : 'BAD_REQUEST' } })),
    },
    wss,
  );

  return {
    close: async () => {
      deps.httpServer.off('upgrade', onUpgrade);
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

// `authorization` (any case) from the connection_init payload, else the upgrade request's header.
function authorizationOf(params: Record<string, unknown> | undefined, request: IncomingMessage): string | undefined {
  for (const [name, value] of Object.entries(params ?? {})) {
    if (name.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  }
  return request.headers.authorization;
}
