import { visibleActor } from '../auth/authorize.js';
import type { Statement } from '../consent/statement.js';
import type { RequestContext } from '../context.js';

/** Resolvers of `ConsentStatement`: who made a statement is shown to auditors and to that actor only. */
export const ConsentStatement = {
  actor: (statement: Statement, _: unknown, ctx: RequestContext) => visibleActor(ctx.caller, statement.actor),
};
