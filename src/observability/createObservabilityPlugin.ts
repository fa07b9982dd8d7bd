import type { ApolloServerPlugin } from '@apollo/server';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestContext } from '../context.js';
import type { Metrics } from './createMetrics.js';

// Operation names come from clients: only well-formed ones become label values, and only the first
// MAX_OPERATION_LABELS of them, so a client inventing names cannot blow up the metric's cardinality.
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 100;

/**
 * An Apollo Server plugin that times every GraphQL request by operation, adds the decisions its
 * resolvers answered (the request's DecisionTally) to the metrics and, when tracing is on, records
 * one span per operation. It has no per-field hook, on purpose: see DecisionTally.
 */
export function createObservabilityPlugin(metrics: Metrics): ApolloServerPlugin<RequestContext> {
  const tracer = trace.getTracer('consent-subgraph');
  const known = new Set<string>();
  const labelOf = (name: string | null | undefined): string => {
    if (name === null || name === undefined || name === '') return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (known.has(name)) return name;
    if (known.size >= MAX_OPERATION_LABELS) return 'other';
    known.add(name);
    return name;
  };

  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      const span = tracer.startSpan('graphql.request');
      return {
        async didResolveOperation({ operation, operationName }) {
          span.updateName(`graphql.${operation?.operation ?? 'unknown'} ${operationName ?? 'anonymous'}`);
        },
        async willSendResponse({ operation, operationName, errors, response, contextValue }) {
          contextValue.decisions?.flush(metrics.decisions);
          const hasErrors = (errors?.length ?? 0) > 0 || (response.body.kind === 'single' && (response.body.singleResult.errors?.length ?? 0) > 0);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.requestDuration.observe({ operation: labelOf(operationName ?? operation?.name?.value), type: operation?.operation ?? 'unknown', outcome: hasErrors ? 'error' : 'ok' }, seconds);
          if (hasErrors) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
  };
}
