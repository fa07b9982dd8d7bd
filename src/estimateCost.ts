import {
  getNamedType,
  isCompositeType,
  Kind,
  valueFromASTUntyped,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type ConstDirectiveNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** What one operation would make the subgraph do, estimated from the operation and its variables alone. */
export interface CostEstimate {
  /** The demand-control cost (`@cost`/`@listSize`), as Hive Gateway and Apollo Router estimate it. */
  readonly cost: number;
  /** `_entities` representations across every `_entities` field of the operation, aliases and fragments included. */
  readonly representations: number;
  /** Consent decisions the operation asks to compute (each `decisions` and `signals` is nine, `decision` one, an attestation one per request). */
  readonly decisions: number;
  /** Ledger changes the operation asks to write: one per `setConsent` and `clearConsent`, one per item of each `changeConsents`. */
  readonly changes: number;
}

/** How {@link estimateCost} sizes lists. */
export interface EstimateOptions {
  /**
   * Size `_entities`, `consentDecisions` and `changeConsents` by the lists sent (what the subgraph
   * can do) rather than by their `@listSize` (what the gateway's demand control does).
   * @default true
   */
  readonly sizeByListArguments?: boolean;
}

// The list argument whose length sizes a field where `@listSize` can only assume a size: the
// gateway cannot count a list argument, the subgraph can, so it charges what is really asked.
const SIZED_BY_LIST_ARGUMENT: Readonly<Record<string, string>> = {
  'Query._entities': 'representations',
  'Query.consentDecisions': 'requests',
  'Mutation.changeConsents': 'changes',
};

// Fields that compute one decision per item of a list argument without returning a GraphQL list
// of that size: the attestation returns its decisions as scalars, so only the count is charged.
const DECISIONS_BY_LIST_ARGUMENT: Readonly<Record<string, string>> = {
  'Query.trainingSetAttestation': 'requests',
};

// Ledger changes each mutation field writes; `changeConsents` writes one per item of `changes`.
const CHANGES_PER_FIELD: Readonly<Record<string, number>> = {
  'Mutation.setConsent': 1,
  'Mutation.clearConsent': 1,
  'Mutation.changeConsents': 1,
};

// Decisions each field computes per parent object; `consentDecisions` computes one per request.
const DECISIONS_PER_FIELD: Readonly<Record<string, number>> = {
  'Consent.decisions': 9,
  'Consent.signals': 9,
  'Consent.decision': 1,
  'ConsentChangePayload.decision': 1,
  'Query.consentDecisions': 1,
};

/**
 * Estimates `operation` with `variables` by the cost model of Hive Gateway's demand control (each
 * object-typed field costs its type's `@cost` weight or 1, plus its own `@cost` weight, times the
 * sizes of every list around it; `@listSize` sizes lists by `first` or an assumed size) and counts
 * representations and decisions. Unlike the gateway it expands every fragment spread, and sizes
 * `_entities`, `consentDecisions` and `changeConsents` by the lists really sent, unless told to
 * price them by `@listSize` as the gateway does. Representations and changes are always counted
 * from the lists sent. Expects a validated operation.
 */
export function estimateCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Readonly<Record<string, unknown>>,
  options: EstimateOptions = {},
): CostEstimate {
  const sizeByLists = options.sizeByListArguments ?? true;
  let cost = operation.operation === 'mutation' ? 10 : 0;
  let representations = 0;
  let decisions = 0;
  let changes = 0;

  const argumentsOf = (field: GraphQLField<unknown, unknown>, node: FieldNode): Record<string, unknown> => {
    const values: Record<string, unknown> = {};
    for (const arg of field.args) {
      const given = node.arguments?.find((a) => a.name.value === arg.name);
      values[arg.name] = given === undefined ? arg.defaultValue : valueFromASTUntyped(given.value, variables as Record<string, unknown>);
      if (given?.value.kind === Kind.VARIABLE && !(given.value.name.value in variables)) values[arg.name] = arg.defaultValue;
    }
    return values;
  };

  // `factor` is the product of the list sizes around the selection; `sized` maps the child field
  // names a parent's `@listSize(sizedFields:)` sizes to that size; `visited` holds the fragments
  // already expanded into this selection set: as in execution (graphql-js's collectFields), a
  // fragment spread twice in one selection set adds nothing, and expanding it again would let
  // nested spreads multiply the walk exponentially.
  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, factor: number, sized: ReadonlyMap<string, number>, visited: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parent;
        if (type !== undefined) walk(selection.selectionSet, type, factor, sized, visited);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const type = fragment && (schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined);
        if (fragment === undefined || type === undefined || visited.has(name)) continue;
        visited.add(name);
        walk(fragment.selectionSet, type, factor, sized, visited);
        continue;
      }
      if (!('getFields' in parent)) continue; // only __typename can be selected on a union
      const field = parent.getFields()[selection.name.value];
      if (field === undefined) continue;
      const coordinate = `${parent.name}.${field.name}`;
      const args = argumentsOf(field, selection);

      let own = sized.get(field.name) ?? 1;
      const childSized = new Map<string, number>();
      const listSize = directiveArguments(field, 'listSize')[0] as
        | { assumedSize?: number; slicingArguments?: string[]; sizedFields?: string[] }
        | undefined;
      if (listSize?.slicingArguments !== undefined) {
        const size = Math.max(1, ...listSize.slicingArguments.map((name) => sizeOf(args[name])));
        if (listSize.sizedFields?.length) for (const child of listSize.sizedFields) childSized.set(child, size);
        else own = size;
      } else if (listSize?.assumedSize) {
        own = listSize.assumedSize;
      }
      const listArgument = SIZED_BY_LIST_ARGUMENT[coordinate];
      const listed = listArgument === undefined ? 1 : Array.isArray(args[listArgument]) ? (args[listArgument] as unknown[]).length : 0;
      if (listArgument !== undefined && sizeByLists) own = listed;
      if (coordinate === 'Query._entities') representations += factor * listed;
      changes += factor * (CHANGES_PER_FIELD[coordinate] ?? 0) * listed;
      decisions += factor * (DECISIONS_PER_FIELD[coordinate] ?? 0) * (coordinate === 'Query.consentDecisions' ? own : 1);
      const decidedPerItem = DECISIONS_BY_LIST_ARGUMENT[coordinate];
      if (decidedPerItem !== undefined && Array.isArray(args[decidedPerItem])) decisions += factor * (args[decidedPerItem] as unknown[]).length;

      const inner = factor * own;
      const named = getNamedType(field.type);
      const fieldWeight = weightOf(directiveArguments(field, 'cost'));
      const typeWeight = isCompositeType(named) ? (weightOf(directiveArguments(named, 'cost')) || 1) : 0;
      cost += inner * (fieldWeight + typeWeight);
      if (selection.selectionSet !== undefined && isCompositeType(named)) walk(selection.selectionSet, named, inner, childSized, new Set());
    }
  };

  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (root) walk(operation.selectionSet, root, 1, new Map(), new Set());
  return { cost, representations, decisions, changes };
}

// A slicing argument's size: an integer as given, or a list's length (the gateway reads only integers).
function sizeOf(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 1;
}

function weightOf(annotations: Array<Record<string, unknown>>): number {
  let weight = 0;
  for (const annotation of annotations) {
    const value = Number(annotation.weight);
    if (Number.isFinite(value)) weight += value;
  }
  return weight;
}

// The arguments of each `@name` on a schema element, read from the SDL it was built from.
function directiveArguments(element: { astNode?: { directives?: readonly ConstDirectiveNode[] } | null }, name: string): Array<Record<string, unknown>> {
  return (element.astNode?.directives ?? [])
    .filter((directive) => directive.name.value === name)
    .map((directive) => Object.fromEntries((directive.arguments ?? []).map((arg) => [arg.name.value, valueFromASTUntyped(arg.value)])));
}
