import { ConsentStore } from '../../src/store/ConsentStore.js';
import { storeCall } from '../../src/store/storeCall.js';
import type { StateDoc } from '../../src/store/collections.js';

/**
 * The benchmark's naive variant: what the service would do without batching, one database read
 * (a point `findOne` by `_id`) per subject asked for, all in flight at once as graphql-js resolves
 * entities concurrently. Built for the benchmark only.
 */
export class NaiveStore extends ConsentStore {
  protected override async stateDocsByKeys(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    const found = new Map<string, StateDoc>();
    await Promise.all(
      keys.map(async (key) => {
        const doc = await storeCall(() => this.collections.states.findOne({ _id: key }), this.deadlineMs);
        if (doc !== null) found.set(key, doc);
      }),
    );
    return found;
  }
}
