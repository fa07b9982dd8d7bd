import type { ConsentEventResolvers } from '../generated/graphql.js';

/** Resolvers of `ConsentEvent`: who made a change is shown to auditors and to that actor only. */
export const ConsentEvent: ConsentEventResolvers = {
  actor: (event, _args, ctx) => ctx.consent.visibleActor(event.actor),
};
