import type { QueryResolvers } from '../generated/graphql.js';

/** Resolvers of `Query`: every argument is validated by the request's service before any read. */
export const Query: QueryResolvers = {
  consentDecisions: (_parent, args, ctx) => ctx.consent.decideMany(args.requests, args.purpose, args.asOf),
  artistsAllowing: (_parent, args, ctx) => ctx.consent.artistsAllowing(args.purpose, args),
  consentChanges: (_parent, args, ctx) => ctx.consent.changes(args),
  trainingSetAttestation: (_parent, args, ctx) => ctx.consent.attest(args.requests, args.purpose, args.asOf),
};
