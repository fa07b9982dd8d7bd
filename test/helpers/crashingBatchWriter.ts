// A writer process that dies in the middle of a batch, for the batch model test:
// `node --import tsx crashingBatchWriter.ts <mongoUri> <dbName> <killAfterWrites> <itemsJson>`.
// It appends the items (AppendItems as JSON, dates as ISO strings) with one
// ConsentStore.appendMany and SIGKILLs itself the moment the database has acknowledged its k-th
// write that changed something, whatever it is (a ledger insert, a projection write, the version change):
// the kill point is counted in the store's own writes, so it stays meaningful however the store
// groups them. A batch that needs fewer than k writes completes, and the process exits 0.
import type { ClearChange, SetChange } from '../../src/consent/validate.js';
import type { AppendItem } from '../../src/store/ConsentStore.js';
import { openStore } from '../../src/store/openStore.js';

const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify']);

const [uri, dbName, killAfter, itemsJson] = process.argv.slice(2) as [string, string, string, string];
// A fresh `now` for each item, as a live writer would have.
type ChangeJson = (Omit<SetChange, 'expiresAt'> & { expiresAt: string | null }) | ClearChange;
const items: AppendItem[] = (JSON.parse(itemsJson) as Array<{ change: ChangeJson; actor: string }>).map(({ change, actor }) => ({
  change: change.kind === 'SET' ? { ...change, expiresAt: change.expiresAt === null ? null : new Date(change.expiresAt) } : change,
  actor,
  now: new Date(),
}));
const store = await openStore({ uri, dbName, timeoutMs: 30_000 });
// Counted from here: opening the store writes too (the version document), and that is not the batch.
// Only writes that changed something count: an insert refused on a unique index (a lost race) also
// "succeeds" as a command, with the refusal in its reply.
let writes = 0;
store.client.on('commandSucceeded', (event) => {
  const reply = event.reply as { n?: number; lastErrorObject?: { n?: number } };
  const changed = (reply.n ?? reply.lastErrorObject?.n ?? 0) > 0;
  if (WRITE_COMMANDS.has(event.commandName) && changed && ++writes >= Number(killAfter)) process.kill(process.pid, 'SIGKILL');
});
await store.appendMany(items);
await store.close();
