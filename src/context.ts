import type { Caller } from './auth/Principal.js';
import type { ConsentService } from './ConsentService.js';
import type { DecisionTally } from './observability/DecisionTally.js';

/** What every resolver of one request sees. */
export interface RequestContext {
  readonly caller: Caller;
  /** The instant this request decides at, unless a field asks for another (`asOf`). */
  readonly now: Date;
  /** Counts the decisions the request answers, for metrics; every decision the service returns is counted. */
  readonly decisions: DecisionTally;
  /** Everything a resolver asks of the subgraph, on behalf of this request's caller at `now`. */
  readonly consent: ConsentService;
}
