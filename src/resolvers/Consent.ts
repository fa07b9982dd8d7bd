import { cawgAssertionJson } from '../consent/signals.js';
import type { CawgTrainingMiningAssertionResolvers, ConsentResolvers } from '../generated/graphql.js';

/** Resolvers of `Consent`: pure decisions over the statements already loaded. */
export const Consent: ConsentResolvers = {
  decisions: (view, _args, ctx) => ctx.consent.decideAll(view),
  decision: (view, args, ctx) => ctx.consent.decide(view, args.purpose),
  signals: (view, _args, ctx) => ctx.consent.signals(view),
};

/** Resolvers of `CawgTrainingMiningAssertion`: the assertion also as the JSON a C2PA manifest embeds. */
export const CawgTrainingMiningAssertion: CawgTrainingMiningAssertionResolvers = {
  json: (assertion) => cawgAssertionJson(assertion),
};
