// A writer process that dies between its ledger insert and its projection update, for the crash
// repair test: `node --import tsx crashingWriter.ts <mongoUri> <dbName> <artistId>`. It appends a
// DENY of AI_TRAINING for the artist through the real ConsentStore, whose projection step never
// finishes, and SIGKILLs itself as soon as the write is acknowledged (the projection is written
// after acknowledging, so it is never written).
import { openStore } from '../../src/store/openStore.js';
import { aSetChange } from './changes.js';

const [uri, dbName, artistId] = process.argv.slice(2) as [string, string, string];
const store = await openStore({ uri, dbName, timeoutMs: 10_000 });
store.syncProjection = () => new Promise(() => {});
store.projector.enqueue = () => {};
await store.append(
  aSetChange(artistId, 'AI_TRAINING', { choice: 'DENY', termsVersion: 'tos-2', source: null }),
  'crashing-writer',
  new Date(),
);
process.kill(process.pid, 'SIGKILL');
