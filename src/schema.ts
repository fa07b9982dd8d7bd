import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema, type GraphQLUnionType } from 'graphql';
import { enforceScopeDirectives } from './auth/enforceScopeDirectives.js';
import { InvalidInputError } from './consent/errors.js';
import { RequestTooLargeError } from './errors.js';
import type { Resolvers } from './generated/graphql.js';
import { REQUEST_LIMITS } from './limits.js';
import { Artist } from './resolvers/Artist.js';
import { AttestedDecision } from './resolvers/AttestedDecision.js';
import { CawgTrainingMiningAssertion, Consent } from './resolvers/Consent.js';
import { ConsentEvent } from './resolvers/ConsentEvent.js';
import { ConsentStatement } from './resolvers/ConsentStatement.js';
import { DateTime } from './resolvers/DateTime.js';
import { Mutation } from './resolvers/Mutation.js';
import { Query } from './resolvers/Query.js';
import { Subscription } from './resolvers/Subscription.js';
import { Track } from './resolvers/Track.js';

/** The contract, read from `schema/consent.graphql` (the source of truth). */
export const CONSENT_SDL = readFileSync(new URL('../schema/consent.graphql', import.meta.url), 'utf8');

/** What the executable schema needs. */
export interface SchemaDeps {
  /** Most `_entities` representations one request may carry. @default REQUEST_LIMITS.maxRepresentations */
  readonly maxRepresentations?: number;
}

/** Builds the executable subgraph schema: resolvers, scope enforcement and the representation cap. */
export function buildConsentSchema(deps: SchemaDeps = {}): GraphQLSchema {
  const schema = buildSubgraphSchema({ typeDefs: parse(CONSENT_SDL), resolvers: RESOLVERS });
  enforceScopeDirectives(schema);
  guardEntities(schema, deps.maxRepresentations ?? REQUEST_LIMITS.maxRepresentations);
  return schema;
}

// Every resolver is one expression over the request context (ctx.consent, the request's service).
const RESOLVERS: Resolvers = { DateTime, AttestedDecision, Artist, Track, Consent, CawgTrainingMiningAssertion, ConsentEvent, ConsentStatement, Query, Mutation, Subscription };

// Refuses oversized `_entities` calls before any reference is resolved or any database read is
// made, and isolates each representation: a malformed one (an operator object for an id, an
// unknown __typename) nulls its own entry with an error instead of failing the whole batch.
function guardEntities(schema: GraphQLSchema, max: number): void {
  const field = schema.getQueryType()?.getFields()._entities;
  if (field?.resolve === undefined) throw new Error('buildSubgraphSchema produced no _entities resolver');
  const resolve = field.resolve;
  const entityTypes = new Set((schema.getType('_Entity') as GraphQLUnionType).getTypes().map((type) => type.name));
  field.resolve = (source, args, ctx, info) => {
    const representations: unknown[] = Array.isArray(args.representations) ? args.representations : [];
    if (representations.length > max) {
      throw new RequestTooLargeError(`_entities takes at most ${max} representations per request, but got ${representations.length}; split the request.`);
    }
    return representations.map((representation, index) => {
      try {
        const typename = (representation as { __typename?: unknown } | null)?.__typename;
        if (typeof typename !== 'string' || !entityTypes.has(typename)) {
          throw new InvalidInputError(`representations[${index}] must be an object whose __typename is one of ${[...entityTypes].join(', ')}`);
        }
        // graphql-js turns an Error in a list into a null entry with that error at its path.
        return (resolve(source, { representations: [representation] }, ctx, info) as unknown[])[0];
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
  };
}
