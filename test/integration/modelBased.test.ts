import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURPOSES, type Purpose } from '../../src/consent/purposes.js';
import { createProjectionRepairer } from '../../src/store/createProjectionRepairer.js';
import { bumpProjectionVersion } from '../../src/store/projectionVersion.js';
import { dropLog } from '../../src/store/tail.js';
import { pino } from 'pino';
import { REF_AI, REF_PARENT } from '../helpers/referencePurposeTree.js';
import { refOf } from '../helpers/representations.js';
import { startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken } from '../helpers/tokens.js';

// A model-based test of the whole service (HTTP → resolvers → ledger → projection → decisions)
// against a pure model of DESIGN §2, written here without the service's code: each subject keeps
// its latest SET per purpose (a CLEAR removes it); a statement decides until it expires; the track
// scope is consulted before the artist scope, each from the purpose up through its ancestors; no
// statement → the opt-in default (AI purposes denied). The purpose tree is the hand-written copy in
// test/helpers/referencePurposeTree.ts, shared with the unit tests' reference model.

const RUNS = 100;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');

// Two artists; track t1 exists under both (statements under the wrong artist must never count).
const SUBJECTS = [
  { artistId: 'a1', trackId: null },
  { artistId: 'a2', trackId: null },
  { artistId: 'a1', trackId: 't1' },
  { artistId: 'a1', trackId: 't2' },
  { artistId: 'a2', trackId: 't1' },
] as const;
type Subject = (typeof SUBJECTS)[number];
const keyOf = (s: { artistId: string; trackId: string | null }) => (s.trackId === null ? `artist/${s.artistId}` : `track/${s.artistId}/${s.trackId}`);

interface ModelStatement { choice: 'ALLOW' | 'DENY'; expiresAt: number | null; id: string }
interface Model { now: number; subjects: Map<string, Map<Purpose, ModelStatement>> }
interface Real { subgraph: TestSubgraph; clock: { now: number }; admin: string; reader: string }

interface ModelDecision { purpose: Purpose; allowed: boolean; basis: string; scope: string; statement: { id: string } | null }

function modelDecide(model: Model, subject: Subject, purpose: Purpose): ModelDecision {
  const scopes: Array<['TRACK' | 'ARTIST', string]> = subject.trackId === null
    ? [['ARTIST', keyOf(subject)]]
    : [['TRACK', keyOf(subject)], ['ARTIST', keyOf({ artistId: subject.artistId, trackId: null })]];
  for (const [scope, key] of scopes) {
    let depth = 0;
    for (let p: Purpose | null = purpose; p !== null; p = REF_PARENT[p], depth++) {
      const s = model.subjects.get(key)?.get(p);
      if (s !== undefined && (s.expiresAt === null || s.expiresAt > model.now)) {
        return { purpose, allowed: s.choice === 'ALLOW', basis: depth === 0 ? 'EXPLICIT' : 'INHERITED', scope, statement: { id: s.id } };
      }
    }
  }
  return { purpose, allowed: !REF_AI.has(purpose), basis: 'DEFAULT', scope: 'PLATFORM', statement: null };
}

const SET = `mutation Set($input: SetConsentInput!) { setConsent(input: $input) { event { id seq } } }`;
const CLEAR = `mutation Clear($input: ClearConsentInput!) { clearConsent(input: $input) { event { id seq } } }`;
const DECISIONS = `query D($r: [_Any!]!) { _entities(representations: $r) {
  ... on Artist { consent { decisions { purpose allowed basis scope statement { id } } } }
  ... on Track { consent { decisions { purpose allowed basis scope statement { id } } } } } }`;

/** One change as the model and the API see it. */
interface Change { kind: 'SET' | 'CLEAR'; subject: Subject; purpose: Purpose; choice: 'ALLOW' | 'DENY'; expiresInMs: number | null }

function send(real: Real, change: Change): Promise<GraphQLResponse> {
  const subject = change.subject.trackId === null ? { artistId: change.subject.artistId } : { ...change.subject };
  if (change.kind === 'CLEAR') return real.subgraph.query(CLEAR, { input: { subject, purpose: change.purpose } }, real.admin);
  const expiresAt = change.expiresInMs === null ? null : new Date(real.clock.now + change.expiresInMs).toISOString();
  return real.subgraph.query(SET, { input: { subject, purpose: change.purpose, choice: change.choice, termsVersion: 'tos-m', expiresAt } }, real.admin);
}

function applyToModel(model: Model, change: Change, eventId: string): void {
  const key = keyOf(change.subject);
  const statements = model.subjects.get(key) ?? new Map<Purpose, ModelStatement>();
  model.subjects.set(key, statements);
  if (change.kind === 'CLEAR') statements.delete(change.purpose);
  else statements.set(change.purpose, { choice: change.choice, expiresAt: change.expiresInMs === null ? null : model.now + change.expiresInMs, id: eventId });
}

function eventOf(res: GraphQLResponse): { id: string; seq: number } {
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return (res.data.setConsent ?? res.data.clearConsent).event;
}

class ChangeCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly change: Change) {}
  check = () => true;
  async run(model: Model, real: Real) {
    applyToModel(model, this.change, eventOf(await send(real, this.change)).id);
  }
  toString = () => `${this.change.kind}(${keyOf(this.change.subject)}, ${this.change.purpose}, ${this.change.choice}, exp ${this.change.expiresInMs})`;
}

class ConcurrentPairCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly a: Change, readonly b: Change) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const [ea, eb] = (await Promise.all([send(real, this.a), send(real, this.b)])).map(eventOf) as [{ id: string; seq: number }, { id: string; seq: number }];
    // The ledger decides the order of a race on one subject; the model follows it.
    const ordered = keyOf(this.a.subject) === keyOf(this.b.subject) && ea.seq > eb.seq ? [[this.b, eb], [this.a, ea]] as const : [[this.a, ea], [this.b, eb]] as const;
    for (const [change, event] of ordered) applyToModel(model, change, event.id);
  }
  toString = () => `PAIR(${new ChangeCommand(this.a).toString()} || ${new ChangeCommand(this.b).toString()})`;
}

class AdvanceClockCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    model.now += this.ms;
    real.clock.now = model.now;
  }
  toString = () => `ADVANCE(${this.ms})`;
}

class DecideCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly subject: Subject) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const res = await real.subgraph.query(DECISIONS, { r: [refOf(this.subject)] }, real.reader);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0].consent.decisions).toEqual(PURPOSES.map((p) => modelDecide(model, this.subject, p)));
  }
  toString = () => `DECIDE(${keyOf(this.subject)})`;
}

class RebuildProjectionCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(_model: Model, real: Real) {
    // Throw the whole projection away; a fresh repairer's first sweep rebuilds it from the ledger.
    await real.subgraph.store.collections.states.deleteMany({});
    const repairer = createProjectionRepairer({ store: real.subgraph.store, logger: pino({ level: 'silent' }) });
    await repairer.sweep();
  }
  toString = () => 'REBUILD_PROJECTION';
}

const changeArb: fc.Arbitrary<Change> = fc.record({
  kind: fc.constantFrom('SET' as const, 'SET' as const, 'CLEAR' as const),
  subject: fc.constantFrom(...SUBJECTS),
  purpose: fc.constantFrom(...PURPOSES),
  choice: fc.constantFrom('ALLOW' as const, 'DENY' as const),
  expiresInMs: fc.option(fc.integer({ min: 1000, max: 60_000 }), { freq: 2 }),
});

const commandArbs = [
  changeArb.map((c) => new ChangeCommand(c)),
  changeArb.map((c) => new ChangeCommand(c)),
  fc.tuple(changeArb, changeArb).map(([a, b]) => new ConcurrentPairCommand(a, b)),
  fc.integer({ min: 1, max: 90_000 }).map((ms) => new AdvanceClockCommand(ms)),
  fc.constantFrom(...SUBJECTS).map((s) => new DecideCommand(s)),
  fc.constantFrom(...SUBJECTS).map((s) => new DecideCommand(s)),
  fc.constant(new RebuildProjectionCommand()),
];

describe('the service against a pure model of DESIGN §2', () => {
  let real: Real;

  beforeAll(async () => {
    const clock = { now: T0 };
    real = { subgraph: await startTestSubgraph({ clock: () => new Date(clock.now) }), clock, admin: await adminToken(), reader: await readToken() };
  });
  afterAll(() => real?.subgraph.stop());

  it(`never diverges over ${RUNS} runs of set, clear, expire, decide, concurrent pairs and projection rebuilds`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commandArbs, { maxCommands: 14 }), async (commands) => {
        // Every run starts from an empty ledger at T0 (the collections stay small, so FerretDB stays fast).
        await real.subgraph.store.collections.events.deleteMany({});
        await real.subgraph.store.projectionSettled();
        await real.subgraph.store.collections.states.deleteMany({});
        await dropLog(real.subgraph.store.collections);
        // Written behind the store's back: change the version, as anything that edits the projection must.
        await bumpProjectionVersion(real.subgraph.store.collections);
        await real.subgraph.store.cache.refresh();
        real.clock.now = T0;
        const model: Model = { now: T0, subjects: new Map() };
        await fc.asyncModelRun(() => ({ model, real }), [...commands, ...SUBJECTS.map((s) => new DecideCommand(s))]);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});
