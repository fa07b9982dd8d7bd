import { decide, decideAll } from '../consent/decide.js';
import { DEFAULT_POLICY } from '../consent/policy.js';
import type { Purpose } from '../consent/purposes.js';
import { cawgAssertionJson, signalsOf, type CawgAssertion } from '../consent/signals.js';
import type { RequestContext } from '../context.js';
import type { ConsentView } from './consentView.js';

/** Resolvers of `Consent`: pure decisions over the statements already loaded. */
export const Consent = {
  decisions: (view: ConsentView, _: unknown, ctx: RequestContext) => ctx.decisions.count(decideAll(view.statements, view.at, DEFAULT_POLICY)),
  decision: (view: ConsentView, args: { purpose: Purpose }, ctx: RequestContext) =>
    ctx.decisions.count(decide(args.purpose, view.statements, view.at, DEFAULT_POLICY)),
  signals: (view: ConsentView) => signalsOf(decideAll(view.statements, view.at, DEFAULT_POLICY)),
};

/** Resolvers of `CawgTrainingMiningAssertion`: the assertion also as the JSON a C2PA manifest embeds. */
export const CawgTrainingMiningAssertion = {
  json: (assertion: CawgAssertion) => cawgAssertionJson(assertion),
};
