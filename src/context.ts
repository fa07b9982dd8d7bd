import DataLoader from 'dataloader';
import type { Caller } from './auth/Principal.js';
import type { ConsentStore } from './store/ConsentStore.js';
import type { StateDoc } from './store/collections.js';

/** Per-request loaders: every key asked for in one tick becomes one database read. */
export interface Loaders {
  /** Projection documents by subject key (`artist/…`, `track/…/…`); null where no statement was ever made. */
  readonly stateByKey: DataLoader<string, StateDoc | null>;
}

/** What every resolver of one request sees. */
export interface RequestContext {
  readonly caller: Caller;
  readonly loaders: Loaders;
  /** The instant this request decides at, unless a field asks for another (`asOf`). */
  readonly now: Date;
}

/**
 * Fresh loaders for one request, so no request ever sees another's cached reads; `onBatch` hears
 * each batch's loader name and size (for metrics).
 */
export function createLoaders(store: ConsentStore, onBatch?: (loader: string, size: number) => void): Loaders {
  return {
    stateByKey: new DataLoader<string, StateDoc | null>(async (keys) => {
      onBatch?.('stateByKey', keys.length);
      const found = await store.statesByKeys(keys);
      return keys.map((key) => found.get(key) ?? null);
    }),
  };
}
