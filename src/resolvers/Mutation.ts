import { decide } from '../consent/decide.js';
import { DEFAULT_POLICY } from '../consent/policy.js';
import { parseClearChange, parseSetChange, type Change } from '../consent/validate.js';
import { assertCanManage, requirePrincipal } from '../auth/authorize.js';
import type { RequestContext } from '../context.js';
import type { ConsentStore } from '../store/ConsentStore.js';
import { createLoaders } from '../context.js';
import { loadConsentView } from './consentView.js';

/** Resolvers of `Mutation`, bound to the store they write to. */
export function createMutation(store: ConsentStore) {
  return {
    setConsent: (_: unknown, args: { input: Record<string, unknown> }, ctx: RequestContext) =>
      changeConsent(store, ctx, parseSetChange(args.input, ctx.now)),
    clearConsent: (_: unknown, args: { input: Record<string, unknown> }, ctx: RequestContext) =>
      changeConsent(store, ctx, parseClearChange(args.input)),
  };
}

// Validates ownership, appends to the ledger, then decides from a fresh read (not the request's
// loaders, which may have cached the state from before the change).
async function changeConsent(store: ConsentStore, ctx: RequestContext, change: Change) {
  const principal = requirePrincipal(ctx.caller);
  assertCanManage(principal, change.subject.artistId);
  const { event, revision } = await store.append(change, principal.subject, ctx.now);
  const view = await loadConsentView(createLoaders(store), change.subject, new Date(Math.max(ctx.now.getTime(), event.at.getTime())));
  return { event, revision, decision: ctx.decisions.count(decide(change.purpose, view.statements, view.at, DEFAULT_POLICY)) };
}
