import type { MongoClient } from 'mongodb';
import { ConsentStore } from '../../src/store/ConsentStore.js';
import type { Collections, StateDoc } from '../../src/store/collections.js';

/**
 * The benchmark's ceiling: the same store interface answering batch reads from a map held in
 * memory, so the same Apollo Server and schema run with no database at all. Built for the
 * benchmark only; it never sees writes. Only the projection read is replaced, so it decides
 * credited parties (DESIGN §7) by the same core as the real store, from the parties' keys.
 */
export class MemoryStore extends ConsentStore {
  private readonly byKey: ReadonlyMap<string, StateDoc>;

  constructor(client: MongoClient, collections: Collections, states: readonly StateDoc[]) {
    super(client, collections);
    this.byKey = new Map(states.map((doc) => [doc._id, doc]));
  }

  protected override async stateDocsByKeys(keys: readonly string[]): Promise<Map<string, StateDoc>> {
    const found = new Map<string, StateDoc>();
    for (const key of keys) {
      const doc = this.byKey.get(key);
      if (doc !== undefined) found.set(key, doc);
    }
    return found;
  }
}
