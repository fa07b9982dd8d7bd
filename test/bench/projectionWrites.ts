import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startFerretdb } from '../../dev/embedded/startFerretdb.js';

// `npm run bench:projection-writes`: what rewriting existing projection documents costs on the
// embedded FerretDB: one replaceOne each (the Projector before 2026-12-04), one deleteMany with
// `$in` (from `3efaaea`), or deletes by `_id` in one bulk write (Projector.rewrite), each followed
// by one insertMany. A projection of PROJECTED documents shaped like
// consent_state's; REWRITTEN of them, spread over it, rewritten ROUNDS times each way. With
// MONGODB_URI set, against that server instead (database "projection_writes_bench", dropped).

const PROJECTED = Number(process.env.BENCH_PROJECTED ?? 25_000);
const REWRITTEN = Number(process.env.BENCH_REWRITTEN ?? 50);
const ROUNDS = 3;

async function main(): Promise<void> {
  const dataDir = process.env.MONGODB_URI ? null : await mkdtemp(join(tmpdir(), 'consent-projection-writes-'));
  const ferretdb = dataDir === null ? null : await startFerretdb({ dataDir });
  const client = new MongoClient(process.env.MONGODB_URI ?? ferretdb!.uri);
  await client.connect();
  const db = client.db('projection_writes_bench');
  try {
    await db.dropDatabase();
    const states = db.collection<{ _id: string; seq: number; gseq: number; statements: object[] }>('consent_state');
    const key = (i: number) => `artist/a-${String(i).padStart(7, '0')}`;
    const doc = (i: number, seq: number) => ({ _id: key(i), seq, gseq: i, statements: [{ purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1', recordedAt: new Date() }] });
    for (let i = 0; i < PROJECTED; i += 1000) await states.insertMany(Array.from({ length: Math.min(1000, PROJECTED - i) }, (_, j) => doc(i + j, 1)));
    const chosen = Array.from({ length: REWRITTEN }, (_, i) => Math.floor(((i + 0.5) * PROJECTED) / REWRITTEN));
    console.log(`# projection writes, ${REWRITTEN} of ${PROJECTED} documents rewritten, ${ferretdb === null ? 'MONGODB_URI' : 'embedded FerretDB'}\n`);
    console.log('| round | replaceOne each (ms) | deleteMany `$in` (ms) | deletes by `_id`, one bulk write (ms) | insertMany (ms) |');
    console.log('|---:|---:|---:|---:|---:|');
    for (let round = 0; round < ROUNDS; round++) {
      let started = performance.now();
      for (const i of chosen) await states.replaceOne({ _id: key(i) }, doc(i, 2 * round + 2), { upsert: true });
      const replaced = performance.now() - started;
      started = performance.now();
      await states.deleteMany({ _id: { $in: chosen.map(key) } });
      const deleted = performance.now() - started;
      await states.insertMany(chosen.map((i) => doc(i, 2 * round + 3)));
      started = performance.now();
      await states.bulkWrite(chosen.map((i) => ({ deleteOne: { filter: { _id: key(i) } } })), { ordered: false });
      const deletedById = performance.now() - started;
      started = performance.now();
      await states.insertMany(chosen.map((i) => doc(i, 2 * round + 3)));
      const inserted = performance.now() - started;
      console.log(`| ${round + 1} | ${replaced.toFixed(0)} | ${deleted.toFixed(0)} | ${deletedById.toFixed(0)} | ${inserted.toFixed(0)} |`);
    }
    await db.dropDatabase();
  } finally {
    await client.close();
    await ferretdb?.stop();
    if (dataDir !== null) await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
