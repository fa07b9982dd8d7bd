import { createRequire } from 'node:module';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { getOperationAST, Kind, type FragmentDefinitionNode } from 'graphql';
import { estimateCost } from '../src/estimateCost.js';

// Built from graphql's CommonJS class, as the runtime's masking recognises it (see createGateway.ts).
const { GraphQLError } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** The budgets {@link useMutationBudget} holds a mutation to. */
export interface MutationBudget {
  /** Largest demand-control cost of the whole operation, priced as the gateway prices its subgraph requests. */
  readonly maxCost: number;
  /** Most consent changes the operation may write over all its mutation fields, counted from the lists sent. */
  readonly maxChanges: number;
}

/**
 * Refuses a mutation over budget before any of its fields runs. Hive Gateway sends each root field
 * of a mutation to its subgraph as a request of its own, one after another, and its demand control
 * prices those requests as they go: an operation of aliased `changeConsents` calls over the budget
 * would be refused halfway, after its first calls had written. Here the whole operation is priced
 * first, by the same `@cost`/`@listSize` model (so never below what demand control will charge),
 * and its changes are counted from the lists really sent: over either limit, nothing runs.
 */
export function useMutationBudget(budget: MutationBudget): GatewayPlugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const definition of args.document.definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      }
      const estimate = estimateCost(args.schema, operation, fragments, args.variableValues ?? {}, { sizeByListArguments: false });
      if (estimate.changes > budget.maxChanges) {
        const message = `The operation would write ${estimate.changes} consent changes, more than the ${budget.maxChanges} one request may (all setConsent, clearConsent and changeConsents fields together); split the changes over several requests. Nothing was written.`;
        setResultAndStopExecution({ errors: [new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })] });
      } else if (estimate.cost > budget.maxCost) {
        const message = `Operation estimated cost ${estimate.cost} exceeded configured maximum ${budget.maxCost}; a mutation is priced whole before any of its fields runs. Nothing was written.`;
        setResultAndStopExecution({ errors: [new GraphQLError(message, { extensions: { code: 'COST_ESTIMATED_TOO_EXPENSIVE', cost: { estimated: estimate.cost, max: budget.maxCost } } })] });
      }
    },
  };
}
