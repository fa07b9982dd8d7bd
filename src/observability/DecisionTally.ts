import type { Counter } from 'prom-client';
import type { Decision } from '../consent/decide.js';

/**
 * The decisions one request answered, counted by purpose, allowed and basis, and added to the
 * `consent_decisions_total` counter once when the response is sent: one counter update per
 * distinct label set instead of one per decision. A per-field plugin hook would make Apollo wrap
 * every resolver, a large share of a request's CPU (BENCHMARKS.md, where the time goes).
 */
export class DecisionTally {
  // purpose → basis → [not allowed, allowed]
  private readonly counts = new Map<string, Map<string, [number, number]>>();

  /** Counts the decisions and returns them, so a resolver can `return tally.count(…)`. */
  count<T extends Decision | readonly Decision[]>(decisions: T): T {
    if (Array.isArray(decisions)) for (const d of decisions as readonly Decision[]) this.add(d);
    else this.add(decisions as Decision);
    return decisions;
  }

  /** Adds the counts to `counter` and forgets them. */
  flush(counter: Counter<'purpose' | 'allowed' | 'basis'>): void {
    for (const [purpose, byBasis] of this.counts) {
      for (const [basis, [denied, allowed]] of byBasis) {
        if (denied > 0) counter.inc({ purpose, allowed: 'false', basis }, denied);
        if (allowed > 0) counter.inc({ purpose, allowed: 'true', basis }, allowed);
      }
    }
    this.counts.clear();
  }

  private add(d: Decision): void {
    let byBasis = this.counts.get(d.purpose);
    if (byBasis === undefined) this.counts.set(d.purpose, (byBasis = new Map()));
    const pair = byBasis.get(d.basis);
    if (pair === undefined) byBasis.set(d.basis, d.allowed ? [0, 1] : [1, 0]);
    else pair[d.allowed ? 1 : 0]++;
  }
}
