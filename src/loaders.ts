import DataLoader from 'dataloader';
import type { Statement } from './consent/statement.js';
import type { ConsentStore } from './store/ConsentStore.js';
import type { EventPage, HistoryRequest } from './store/history.js';

/** Per-request loaders: every key asked for in one tick becomes one database read. */
export interface Loaders {
  /** The statements in force on each subject key (`artist/…`, `track/…/…`); none where no statement was ever made. */
  readonly stateByKey: DataLoader<string, Statement[]>;
  /** Each subject's statements at a past instant, from the ledger: one loader, so one read, per instant. */
  stateAt(at: Date): DataLoader<string, Statement[]>;
  /** Pages of subjects' ledger histories; every page asked for in one tick shares one read. */
  readonly historyPage: DataLoader<HistoryRequest, EventPage, string>;
}

/**
 * Fresh loaders for one request, so no request ever sees another's cached reads; `onBatch` hears
 * each batch's loader name and size (for metrics).
 */
export function createLoaders(store: ConsentStore, onBatch?: (loader: string, size: number) => void): Loaders {
  const byKey = (name: string, read: (keys: readonly string[]) => Promise<Map<string, Statement[]>>) =>
    new DataLoader<string, Statement[]>(async (keys) => {
      onBatch?.(name, keys.length);
      const found = await read(keys);
      return keys.map((key) => found.get(key) ?? []);
    });
  const atInstant = new Map<number, DataLoader<string, Statement[]>>();
  return {
    stateByKey: byKey('stateByKey', (keys) => store.statesByKeys(keys)),
    stateAt(at) {
      let loader = atInstant.get(at.getTime());
      if (loader === undefined) {
        loader = byKey('stateAt', (keys) => store.statesAt(keys, at));
        atInstant.set(at.getTime(), loader);
      }
      return loader;
    },
    historyPage: new DataLoader(
      async (requests: readonly HistoryRequest[]) => {
        onBatch?.('historyPage', requests.length);
        return store.historyPages(requests);
      },
      { cacheKeyFn: (r) => JSON.stringify([r.key, r.beforeSeq, r.purpose, r.first]) },
    ),
  };
}
