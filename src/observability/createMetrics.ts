import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectionCache } from '../store/ProjectionCache.js';

/** The service's Prometheus metrics, in a registry of their own (served at `/metrics`). */
export interface Metrics {
  readonly registry: Registry;
  /** GraphQL request latency in seconds, by operation name, operation type and outcome. */
  readonly requestDuration: Histogram<'operation' | 'type' | 'outcome'>;
  /** Keys per DataLoader batch (one batch is one database read). */
  readonly loaderBatchSize: Histogram<'loader'>;
  /** Database command latency in seconds, by command, collection and outcome. */
  readonly dbDuration: Histogram<'command' | 'collection' | 'outcome'>;
  /** Decisions answered, by purpose, allowed and basis. */
  readonly decisions: Counter<'purpose' | 'allowed' | 'basis'>;
}

/** Creates the metrics in a fresh registry, with Node's default process metrics alongside. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'consent_' });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'consent_graphql_request_duration_seconds',
      help: 'GraphQL request latency, by operation name (or "anonymous"/"other"), operation type and outcome (ok or error).',
      labelNames: ['operation', 'type', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    loaderBatchSize: new Histogram({
      name: 'consent_dataloader_batch_size',
      help: 'Keys per DataLoader batch; each batch is one database read.',
      labelNames: ['loader'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers: [registry],
    }),
    dbDuration: new Histogram({
      name: 'consent_db_command_duration_seconds',
      help: 'Database command latency, by command, collection and outcome (ok or error), from the driver command events.',
      labelNames: ['command', 'collection', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'consent_decisions_total',
      help: 'Consent decisions answered, by purpose, allowed (true/false) and basis (EXPLICIT, INHERITED, DEFAULT).',
      labelNames: ['purpose', 'allowed', 'basis'],
      registers: [registry],
    }),
  };
}

/** Exposes a projection cache's counters: lookups by outcome, loads, and the last load's size and duration. */
export function registerCacheMetrics(registry: Registry, cache: ProjectionCache): void {
  new Counter({
    name: 'consent_cache_lookups_total',
    help: 'Current-state reads by outcome: hit (answered from memory at the current version) or miss (read from the database).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'hit' }, cache.counts.hits);
      this.inc({ outcome: 'miss' }, cache.counts.misses);
    },
  });
  new Counter({
    name: 'consent_cache_loads_total',
    help: 'Full loads of the projection into the cache, by outcome (ok or error).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'ok' }, cache.counts.refreshes);
      this.inc({ outcome: 'error' }, cache.counts.failedRefreshes);
    },
  });
  new Gauge({
    name: 'consent_cache_subjects',
    help: 'Projection documents held by the cache after its last load (0 when off or not loaded).',
    registers: [registry],
    collect() {
      this.set(cache.enabled ? (cache.lastRefresh?.subjects ?? 0) : 0);
    },
  });
  new Gauge({
    name: 'consent_cache_last_load_seconds',
    help: 'How long the last full load of the projection took.',
    registers: [registry],
    collect() {
      this.set(cache.lastRefresh?.seconds ?? 0);
    },
  });
}
