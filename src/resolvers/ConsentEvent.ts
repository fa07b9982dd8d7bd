import { encodeCursor } from '../consent/cursor.js';
import type { FeedEvent } from '../ConsentService.js';
import type { ConsentEventResolvers } from '../generated/graphql.js';

/** Resolvers of `ConsentEvent`: who made a change is shown to auditors and to that actor only; feed events carry their cursor. */
export const ConsentEvent: ConsentEventResolvers = {
  actor: (event, _args, ctx) => ctx.consent.visibleActor(event.actor),
  feedCursor: (event) => {
    const { gseq } = event as FeedEvent;
    return gseq === undefined ? null : encodeCursor('feed', gseq);
  },
};
