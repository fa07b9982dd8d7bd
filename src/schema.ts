import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import { enforceScopeDirectives } from './auth/enforceScopeDirectives.js';
import { RequestTooLargeError } from './errors.js';
import { Artist } from './resolvers/Artist.js';
import { Consent } from './resolvers/Consent.js';
import { DateTime } from './resolvers/DateTime.js';
import { createMutation } from './resolvers/Mutation.js';
import { Track } from './resolvers/Track.js';
import type { ConsentStore } from './store/ConsentStore.js';

/** The contract, read from `schema/consent.graphql` (the source of truth). */
export const CONSENT_SDL = readFileSync(new URL('../schema/consent.graphql', import.meta.url), 'utf8');

/** What the executable schema needs. */
export interface SchemaDeps {
  readonly store: ConsentStore;
  /** Most `_entities` representations one request may carry. @default 1000 */
  readonly maxRepresentations?: number;
}

/** Builds the executable subgraph schema: resolvers, scope enforcement and the representation cap. */
export function buildConsentSchema(deps: SchemaDeps): GraphQLSchema {
  const schema = buildSubgraphSchema({
    typeDefs: parse(CONSENT_SDL),
    resolvers: { DateTime, Artist, Track, Consent, Mutation: createMutation(deps.store) } as never,
  });
  enforceScopeDirectives(schema);
  capEntities(schema, deps.maxRepresentations ?? 1000);
  return schema;
}

// Refuses oversized `_entities` calls before any reference is resolved or any database read is made.
function capEntities(schema: GraphQLSchema, max: number): void {
  const field = schema.getQueryType()?.getFields()._entities;
  if (field?.resolve === undefined) throw new Error('buildSubgraphSchema produced no _entities resolver');
  const resolve = field.resolve;
  field.resolve = (source, args, ctx, info) => {
    const count = Array.isArray(args.representations) ? args.representations.length : 0;
    if (count > max) {
      throw new RequestTooLargeError(`_entities takes at most ${max} representations per request, but got ${count}; split the request.`);
    }
    return resolve(source, args, ctx, info);
  };
}
