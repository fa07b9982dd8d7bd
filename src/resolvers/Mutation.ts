import type { MutationResolvers } from '../generated/graphql.js';

/** Resolvers of `Mutation`: the request's service checks the caller, writes, and decides from a fresh read. */
export const Mutation: MutationResolvers = {
  setConsent: (_parent, args, ctx) => ctx.consent.setConsent(args.input),
  clearConsent: (_parent, args, ctx) => ctx.consent.clearConsent(args.input),
  changeConsents: (_parent, args, ctx) => ctx.consent.changeConsents(args.changes),
};
