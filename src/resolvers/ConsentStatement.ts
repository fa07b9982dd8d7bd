import type { ConsentStatementResolvers } from '../generated/graphql.js';

/** Resolvers of `ConsentStatement`: who made a statement is shown to auditors and to that actor only. */
export const ConsentStatement: ConsentStatementResolvers = {
  actor: (statement, _args, ctx) => ctx.consent.visibleActor(statement.actor),
};
