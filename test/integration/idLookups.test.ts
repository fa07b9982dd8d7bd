import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { aFreshDbName, mongoUri } from '../helpers/database.js';

// Everything the store does by `_id` (chain heads, commit point reads, the Projector's deletes) is
// an index seek on MongoDB. FerretDB v1.24 as released scanned its SQLite table for each one: it
// looked `_id` up with an expression its `_id` index is not built on. The embedded FerretDB is
// built with that one expression changed (dev/embedded/ferretdbBinary.ts); these tests hold the
// plan and that lookups, updates, deletes and the unique `_id` still behave as MongoDB's do.

let client: MongoClient;
let db: Db;
beforeAll(async () => {
  client = new MongoClient(mongoUri());
  await client.connect();
  db = client.db(aFreshDbName());
});
afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

// Whether an explain of a find says it used an index: SQLite's plan ("SEARCH … USING INDEX", not
// "SCAN") on FerretDB, the winning plan's stages (IDHACK, EXPRESS_IXSCAN or IXSCAN, no COLLSCAN) on MongoDB.
function usesIndex(explain: Record<string, unknown>): { index: boolean; scan: boolean; plan: string } {
  const plan = JSON.stringify(explain.queryPlanner ?? explain);
  return { index: /USING (COVERING )?INDEX|IDHACK|EXPRESS_IXSCAN|IXSCAN/.test(plan), scan: /detail=SCAN|COLLSCAN/.test(plan), plan };
}

describe('lookups by _id', () => {
  it('use the _id index', async () => {
    const docs = db.collection<{ _id: string; n: number }>('by_id');
    await docs.insertMany(Array.from({ length: 200 }, (_, n) => ({ _id: `doc-${n}`, n })));
    const found = usesIndex(await docs.find({ _id: 'doc-17' }).explain());
    expect(
      { index: found.index, scan: found.scan },
      `this server scans for a lookup by _id (FerretDB as released? The embedded one is built with FERRETDB_PATCH, dev/embedded/ferretdbBinary.ts): ${found.plan}`,
    ).toEqual({ index: true, scan: false });
  });

  it('find, replace and delete exactly the document named, and the _id stays unique', async () => {
    const docs = db.collection<{ _id: string; n: number }>('by_id_writes');
    await docs.insertMany(Array.from({ length: 50 }, (_, n) => ({ _id: `doc-${n}`, n })));
    expect(await docs.findOne({ _id: 'doc-7' })).toEqual({ _id: 'doc-7', n: 7 });
    expect(await docs.findOne({ _id: 'doc-70' })).toBeNull();

    expect((await docs.replaceOne({ _id: 'doc-8' }, { n: 800 })).modifiedCount).toBe(1);
    expect((await docs.updateOne({ _id: 'doc-9' }, { $set: { n: 900 } })).modifiedCount).toBe(1);
    const deleted = await docs.bulkWrite(['doc-1', 'doc-2', 'doc-missing'].map((_id) => ({ deleteOne: { filter: { _id } } })), { ordered: false });
    expect(deleted.deletedCount).toBe(2);

    expect(await docs.countDocuments({})).toBe(48);
    expect(await docs.find({ _id: { $in: ['doc-1', 'doc-2', 'doc-8', 'doc-9'] } }).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'doc-8', n: 800 },
      { _id: 'doc-9', n: 900 },
    ]);
    await expect(docs.insertOne({ _id: 'doc-3', n: -1 })).rejects.toMatchObject({ code: 11000 });
    expect(await docs.findOne({ _id: 'doc-3' })).toEqual({ _id: 'doc-3', n: 3 });
    // A deleted _id can be used again.
    await docs.insertOne({ _id: 'doc-1', n: 100 });
    expect(await docs.findOne({ _id: 'doc-1' })).toEqual({ _id: 'doc-1', n: 100 });
  });
});
