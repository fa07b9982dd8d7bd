import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEvent } from '../../src/consent/event.js';
import { eventFromDoc, stateFromHead } from '../../src/store/documents.js';
import type { EventDoc } from '../../src/store/collections.js';
import { aFreshStore, anotherConnection, dropStore } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken } from '../helpers/tokens.js';

const WRITERS = 50;
const ROUNDS = Number(process.env.CONCURRENCY_ROUNDS ?? 20);

const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) {
    setConsent(input: $input) { revision event { id seq kind choice } decision { purpose allowed basis scope statement { id } } }
  }`;
const CLEAR = /* GraphQL */ `
  mutation Clear($input: ClearConsentInput!) {
    clearConsent(input: $input) { revision event { id seq kind choice } decision { purpose allowed basis scope statement { id } } }
  }`;
const DECISION = /* GraphQL */ `
  query Decision($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Artist { consent { decision(purpose: AI_TRAINING) { allowed basis scope statement { id } } } } }
  }`;

// Two service instances (each with its own connection pool and its own queue of appends) share
// one database, and the writers of each round are split between them, so appends really race on
// the database's unique indexes as replicas behind a gateway would.
describe('concurrent writers through the HTTP API of two instances', () => {
  let subgraph: TestSubgraph;
  let replica: TestSubgraph;
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    // Deadlines long enough for a database that 50 writers keep busy: this is about ordering.
    subgraph = await startTestSubgraph({ store: await aFreshStore({ timeoutMs: 60_000 }) });
    replica = await startTestSubgraph({ store: await anotherConnection(subgraph.store, { timeoutMs: 60_000 }) });
    admin = await adminToken();
    reader = await readToken();
  });
  afterAll(async () => {
    await replica?.stop();
    await replica?.store.close();
    await subgraph?.stop();
    if (subgraph !== undefined) await dropStore(subgraph.store);
  });

  const eventsOf = (subject: string) => subgraph.store.collections.events.find({ subject }).sort({ seq: 1 }).toArray();

  it(`keeps ${WRITERS} concurrent conflicting set/clear calls on one subject gapless and converged, ${ROUNDS} rounds`, async () => {
    const subject = { artistId: 'a-contended' };
    const timings: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) => {
          const kind = (i + round) % 3;
          const instance = i % 2 === 0 ? subgraph : replica;
          return kind === 0
            ? instance.query(CLEAR, { input: { subject, purpose: 'AI_TRAINING' } }, admin)
            : instance.query(SET, { input: { subject, purpose: 'AI_TRAINING', choice: kind === 1 ? 'ALLOW' : 'DENY', termsVersion: `tos-${round}-${i}` } }, admin);
        }),
      );
      timings.push(performance.now() - started);
      for (const res of results) expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();

      // Sequence numbers 1..N with no gap or duplicate; each writer got its own.
      const events = await eventsOf('artist/a-contended');
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: round * WRITERS }, (_, i) => i + 1));
      const answered = results.map((res) => (res.data.setConsent ?? res.data.clearConsent).event.seq as number);
      expect(new Set(answered).size).toBe(WRITERS);
      // The chain links, and each event's hash is its own content's.
      events.forEach((e, i) => {
        expect(e.prevHash).toBe(i === 0 ? null : events[i - 1]!.hash);
        const { hash, ...unhashed } = eventFromDoc(e);
        expect(hashEvent(unhashed)).toBe(hash);
      });

      // The projection (written after acknowledging) equals the ledger head once both replicas'
      // projectors are done, and the decision follows the last event.
      const head = events.at(-1)!;
      await Promise.all([subgraph.store.projectionSettled(), replica.store.projectionSettled()]);
      expect(await subgraph.store.collections.states.findOne({ _id: 'artist/a-contended' })).toEqual(stateFromHead(head));
      const decision = (await subgraph.query(DECISION, { representations: [{ __typename: 'Artist', id: 'a-contended' }] }, reader)).data._entities[0].consent.decision;
      expect(decision).toEqual(expectedDecision(head));
    }
    // Global order stays gapless too.
    const gseqs = (await subgraph.store.collections.events.find({}, { projection: { gseq: 1 } }).toArray()).map((e) => e.gseq).sort((a, b) => a - b);
    expect(gseqs).toEqual(Array.from({ length: gseqs.length }, (_, i) => i + 1));
    console.info(`concurrency: ${ROUNDS} rounds of ${WRITERS} writers, ms per round: ${timings.map((t) => Math.round(t)).join(' ')}`);
  }, ROUNDS * 60_000);

  it('records one event for the same idempotency key sent 10 times at once, and answers all ten identically', async () => {
    const input = { subject: { artistId: 'a-retry', trackId: 't-retry' }, purpose: 'VOICE_REPLICATION', choice: 'ALLOW', termsVersion: 'tos-1', idempotencyKey: 'same-key' };
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? replica : subgraph).query(SET, { input }, admin)));
    for (const res of results) expect(res.errors).toBeUndefined();
    const answers = results.map((res) => res.data.setConsent);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    const events = await eventsOf('track/a-retry/t-retry');
    expect(events).toHaveLength(1);
    expect(answers[0].event.id).toBe(events[0]!._id);
    expect(answers[0].decision).toMatchObject({ allowed: true, basis: 'EXPLICIT', scope: 'TRACK', statement: { id: events[0]!._id } });
  });
});

// What DESIGN §2 says the decision for AI_TRAINING is when `head` is the artist's only history
// about it: the statement it made, or the opt-in default after a clear.
function expectedDecision(head: EventDoc) {
  if (head.kind === 'CLEAR') return { allowed: false, basis: 'DEFAULT', scope: 'PLATFORM', statement: null };
  return { allowed: head.choice === 'ALLOW', basis: 'EXPLICIT', scope: 'ARTIST', statement: { id: head._id } };
}
