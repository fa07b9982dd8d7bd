import type { ApolloServerPlugin } from '@apollo/server';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestContext } from '../context.js';
import type { Metrics } from './createMetrics.js';
import { createOperationLabels, type OperationLabelOptions } from './operationLabels.js';

/**
 * An Apollo Server plugin that times every GraphQL request by operation, adds the decisions its
 * resolvers answered (the request's DecisionTally) to the metrics and, when tracing is on, records
 * one span per operation. It has no per-field hook, on purpose: see DecisionTally.
 */
export function createObservabilityPlugin(metrics: Metrics, labels: OperationLabelOptions = {}): ApolloServerPlugin<RequestContext> {
  const tracer = trace.getTracer('consent-subgraph');
  // Operation names come from clients: see createOperationLabels for how they are bounded.
  const labelOf = createOperationLabels(labels);

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
