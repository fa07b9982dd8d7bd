import { defaultFieldResolver, isObjectType, Kind, type GraphQLSchema, type ValueNode } from 'graphql';
import type { RequestContext } from '../context.js';
import { requireScopes } from './authorize.js';

/**
 * Wraps every field that carries `@requiresScopes` in the schema so the subgraph enforces the same
 * rule as the gateway (defence in depth), read from the SDL itself: one source of truth.
 * Returns the coordinates of the fields it guarded.
 */
export function enforceScopeDirectives(schema: GraphQLSchema): string[] {
  const guarded: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const directive = field.astNode?.directives?.find((d) => d.name.value === 'requiresScopes');
      if (directive === undefined) continue;
      const arg = directive.arguments?.find((a) => a.name.value === 'scopes');
      if (arg === undefined) throw new Error(`@requiresScopes on ${type.name}.${field.name} has no scopes argument`);
      const alternatives = stringLists(arg.value);
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, ctx: RequestContext, info) => {
        requireScopes(ctx.caller, alternatives);
        return resolve(source, args, ctx, info);
      };
      // A subscription is refused when it opens, before any event is read.
      const subscribe = field.subscribe;
      if (subscribe !== undefined) {
        field.subscribe = (source, args, ctx: RequestContext, info) => {
          requireScopes(ctx.caller, alternatives);
          return subscribe(source, args, ctx, info);
        };
      }
      guarded.push(`${type.name}.${field.name}`);
    }
  }
  return guarded;
}

function stringLists(value: ValueNode): string[][] {
  if (value.kind !== Kind.LIST) throw new Error('@requiresScopes(scopes:) must be a list of lists');
  return value.values.map((inner) => {
    if (inner.kind !== Kind.LIST) throw new Error('@requiresScopes(scopes:) must be a list of lists');
    return inner.values.map((v) => {
      if (v.kind !== Kind.STRING) throw new Error('@requiresScopes scopes must be strings');
      return v.value;
    });
  });
}
