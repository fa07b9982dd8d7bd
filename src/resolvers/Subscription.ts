import type { FeedItem } from '../subscriptions/ChangeFeedHub.js';
import type { SubscriptionResolvers } from '../generated/graphql.js';
import type { FeedEvent } from '../ConsentService.js';

/** Resolvers of `Subscription`: the change feed pushed by the process's hub; an early end arrives as the stream's last error. */
export const Subscription: SubscriptionResolvers = {
  consentChanged: {
    subscribe: async (_parent, args, ctx) => ctx.consent.subscribeChanges(args),
    resolve: (item: FeedItem): FeedEvent => {
      if (item instanceof Error) throw item;
      return { ...item.event, gseq: item.gseq };
    },
  },
};
