import { visibleActor } from '../auth/authorize.js';
import type { ConsentEvent as Event } from '../consent/event.js';
import type { RequestContext } from '../context.js';

/** Resolvers of `ConsentEvent`: who made a change is shown to auditors and to that actor only. */
export const ConsentEvent = {
  actor: (event: Event, _: unknown, ctx: RequestContext) => visibleActor(ctx.caller, event.actor),
};
