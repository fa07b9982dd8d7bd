import type { ApolloServerPlugin } from '@apollo/server';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { getNamedType } from 'graphql';
import type { Metrics } from './createMetrics.js';

// Operation names come from clients: only well-formed ones become label values, and only the first
// MAX_OPERATION_LABELS of them, so a client inventing names cannot blow up the metric's cardinality.
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 100;

interface DecisionLike {
  purpose?: unknown;
  allowed?: unknown;
  basis?: unknown;
}

/**
 * An Apollo Server plugin that times every GraphQL request by operation, counts the decisions it
 * answers (any field returning `ConsentDecision`, single or list) and, when tracing is on, records
 * one span per operation.
 */
export function createObservabilityPlugin(metrics: Metrics): ApolloServerPlugin {
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
  const countDecision = (value: unknown) => {
    const d = value as DecisionLike | null;
    if (d === null || typeof d !== 'object' || typeof d.purpose !== 'string') return;
    metrics.decisions.inc({ purpose: d.purpose, allowed: String(d.allowed === true), basis: String(d.basis) });
  };

  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      const span = tracer.startSpan('graphql.request');
      return {
        async didResolveOperation({ operation, operationName }) {
          span.updateName(`graphql.${operation?.operation ?? 'unknown'} ${operationName ?? 'anonymous'}`);
        },
        async executionDidStart() {
          return {
            willResolveField({ info }) {
              if (getNamedType(info.returnType).name !== 'ConsentDecision') return;
              return (error, result) => {
                if (error !== null) return;
                if (Array.isArray(result)) result.forEach(countDecision);
                else countDecision(result);
              };
            },
          };
        },
        async willSendResponse({ operation, operationName, errors, response }) {
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
