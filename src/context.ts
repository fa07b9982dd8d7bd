import DataLoader from 'dataloader';
import type { Caller } from './auth/Principal.js';
import type { DecisionTally } from './observability/DecisionTally.js';
import type { ConsentStore } from './store/ConsentStore.js';
import type { StateDoc } from './store/collections.js';
import { historyPages, type EventPage, type HistoryRequest } from './store/history.js';
import { statesAt } from './store/pointInTime.js';

/** Per-request loaders: every key asked for in one tick becomes one database read. */
export interface Loaders {
  /** Projection documents by subject key (`artist/…`, `track/…/…`); null where no statement was ever made. */
  readonly stateByKey: DataLoader<string, StateDoc | null>;
  /** Each subject's state at a past instant, from the ledger: one loader, so one read, per instant. */
  stateAt(at: Date): DataLoader<string, StateDoc | null>;
  /** Pages of subjects' ledger histories; every page asked for in one tick shares one read. */
  readonly historyPage: DataLoader<HistoryRequest, EventPage, string>;
}

/** What every resolver of one request sees. */
export interface RequestContext {
  readonly caller: Caller;
  readonly loaders: Loaders;
  /** The instant this request decides at, unless a field asks for another (`asOf`). */
  readonly now: Date;
  /** Counts the decisions the request answers, for metrics; every resolver returning decisions counts them. */
  readonly decisions: DecisionTally;
}

/**
 * Fresh loaders for one request, so no request ever sees another's cached reads; `onBatch` hears
 * each batch's loader name and size (for metrics).
 */
export function createLoaders(store: ConsentStore, onBatch?: (loader: string, size: number) => void): Loaders {
  const byKey = (name: string, read: (keys: readonly string[]) => Promise<Map<string, StateDoc>>) =>
    new DataLoader<string, StateDoc | null>(async (keys) => {
      onBatch?.(name, keys.length);
      const found = await read(keys);
      return keys.map((key) => found.get(key) ?? null);
    });
  const atInstant = new Map<number, DataLoader<string, StateDoc | null>>();
  return {
    stateByKey: byKey('stateByKey', (keys) => store.statesByKeys(keys)),
    stateAt(at) {
      let loader = atInstant.get(at.getTime());
      if (loader === undefined) {
        loader = byKey('stateAt', (keys) => statesAt(store.collections, keys, at, store.deadlineMs));
        atInstant.set(at.getTime(), loader);
      }
      return loader;
    },
    historyPage: new DataLoader(
      async (requests: readonly HistoryRequest[]) => {
        onBatch?.('historyPage', requests.length);
        return historyPages(store.collections, requests, store.deadlineMs);
      },
      { cacheKeyFn: (r) => JSON.stringify([r.key, r.beforeSeq, r.purpose, r.first]) },
    ),
  };
}
