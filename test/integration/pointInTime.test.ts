import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideAll, type Decision } from '../../src/consent/decide.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import { PURPOSES } from '../../src/consent/purposes.js';
import type { Subject } from '../../src/consent/statement.js';
import type { Change } from '../../src/consent/validate.js';
import { subjectKey } from '../../src/store/subjectKey.js';
import { aClearChange, aSetChange } from '../helpers/changes.js';
import { countReads } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';
import { seededRandom } from '../helpers/seededRandom.js';
import { refOf } from '../helpers/representations.js';

const AS_OF = /* GraphQL */ `
  query AsOf($representations: [_Any!]!, $asOf: DateTime) {
    _entities(representations: $representations) {
      ... on Artist { consent(asOf: $asOf) { decisions { ...d } } }
      ... on Track { consent(asOf: $asOf) { decisions { ...d } } }
    }
  }
  fragment d on ConsentDecision { purpose allowed basis scope statement { id } }`;

const SUBJECTS: Subject[] = ['a1', 'a2', 'a3'].flatMap((artistId) => [
  { artistId, trackId: null },
  { artistId, trackId: 't1' },
  { artistId, trackId: 't2' },
]);
const compact = (d: Decision) => ({ purpose: d.purpose, allowed: d.allowed, basis: d.basis, scope: d.scope, statement: d.statement === null ? null : { id: d.statement.id } });


const SEED = 20261127;
const CHANGES = 150;

describe('consent(asOf) replaying the ledger', () => {
  let subgraph: TestSubgraph;
  let reader: string;
  // Instant → what `consent` answered for every subject at that instant, recorded while it was true.
  const recorded = new Map<number, ReturnType<typeof compact>[][]>();

  // What `consent` answers right now for every subject, judged at each of `instants`.
  async function decisionsAt(instants: Date[]) {
    const states = await subgraph.store.statesByKeys(SUBJECTS.flatMap((s) => [subjectKey(s), subjectKey({ artistId: s.artistId, trackId: null })]));
    return instants.map((at) =>
      SUBJECTS.map((s) =>
        decideAll(
          {
            artist: states.get(subjectKey({ artistId: s.artistId, trackId: null })) ?? [],
            track: s.trackId === null ? null : (states.get(subjectKey(s)) ?? []),
          },
          at,
          DEFAULT_POLICY,
        ).map(compact),
      ),
    );
  }

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    const next = seededRandom(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    // Change instants first, so the moment recorded between two changes is known to precede the next.
    const instants: number[] = [];
    for (let i = 0, t = Date.now() - 30 * 24 * 3600 * 1000; i < CHANGES; i++) {
      // Often the same millisecond as the previous change, sometimes a long pause that outlives expiries.
      t += next() < 0.3 ? 0 : next() < 0.9 ? Math.ceil(next() * 20) : 5000;
      instants.push(t);
    }
    recorded.set(instants[0]! - 1, await decisionsAt([new Date(instants[0]! - 1)]).then((r) => r[0]!));
    for (const [i, t] of instants.entries()) {
      const subject = pick(SUBJECTS);
      const purpose = pick(PURPOSES);
      const change: Change = next() < 0.2
        ? aClearChange(subject.artistId, purpose, subject.trackId)
        : aSetChange(subject.artistId, purpose, {
            trackId: subject.trackId,
            choice: next() < 0.5 ? 'ALLOW' : 'DENY',
            expiresAt: next() < 0.3 ? new Date(t + Math.ceil(next() * 100)) : null,
          });
      await subgraph.store.append(change, 'replayer', new Date(t));
      const nextChange = instants[i + 1] ?? t + 100;
      if (nextChange === t) continue;
      // Right after the change, and a moment before the next one, when expiries may have run out.
      const between = t + Math.floor(next() * (nextChange - t));
      const [atChange, atBetween] = await decisionsAt([new Date(t), new Date(between)]);
      recorded.set(t, atChange!);
      recorded.set(between, atBetween!);
    }
  }, 240_000);
  afterAll(() => subgraph.stop());

  it(`answers every recorded instant exactly as consent answered then (seed ${SEED}, ${CHANGES} changes)`, async () => {
    expect(recorded.size).toBeGreaterThan(CHANGES);
    for (const [instant, expected] of [...recorded].sort((a, b) => a[0] - b[0])) {
      const asOf = new Date(instant).toISOString();
      const res = await subgraph.query(AS_OF, { representations: SUBJECTS.map(refOf), asOf }, reader);
      expect(res.errors).toBeUndefined();
      const actual = res.data._entities.map((e: any) => e.consent.decisions);
      expect(actual, asOf).toEqual(expected);
    }
  }, 240_000);

  it('exercises explicit, inherited, track and expired answers in the replay', () => {
    const all = [...recorded.values()].flat(2);
    expect(new Set(all.map((d) => d.basis))).toEqual(new Set(['EXPLICIT', 'INHERITED', 'DEFAULT']));
    expect(new Set(all.map((d) => d.scope))).toEqual(new Set(['TRACK', 'ARTIST', 'PLATFORM']));
    expect(all.some((d) => d.allowed && d.basis !== 'DEFAULT')).toBe(true);
  });

  it('answers the consentDecisions asOf of every recorded instant the same way', async () => {
    const instants = [...recorded.keys()].sort((a, b) => a - b).filter((_, i) => i % 7 === 0);
    for (const instant of instants) {
      const res = await subgraph.query(
        `query($requests: [DecisionRequest!]!, $asOf: DateTime) { consentDecisions(requests: $requests, purpose: VOICE_REPLICATION, asOf: $asOf) { purpose allowed basis scope statement { id } } }`,
        { requests: SUBJECTS, asOf: new Date(instant).toISOString() },
        reader,
      );
      expect(res.errors).toBeUndefined();
      const expected = recorded.get(instant)!.map((decisions) => decisions.find((d) => d.purpose === 'VOICE_REPLICATION'));
      expect(res.data.consentDecisions).toEqual(expected);
    }
  });

  it('answers a point-in-time query for many artists and tracks with one database read', async () => {
    const representations = Array.from({ length: 300 }, (_, i) => refOf({ artistId: `a${(i % 3) + 1}`, trackId: i % 4 === 0 ? null : `t${i}` }));
    const { result, reads } = await countReads(subgraph.store, () =>
      subgraph.query(AS_OF, { representations, asOf: new Date(Date.now() - 1000).toISOString() }, reader));
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toHaveLength(300);
    expect(reads).toBe(1);
  });

  it('answers the platform default before the first event', async () => {
    const res = await subgraph.query(AS_OF, { representations: [refOf(SUBJECTS[1]!)], asOf: '2001-01-01T00:00:00Z' }, reader);
    for (const d of res.data._entities[0].consent.decisions) expect(d).toMatchObject({ basis: 'DEFAULT', scope: 'PLATFORM', statement: null });
  });

  it('answers asOf now the same as consent without asOf', async () => {
    const representations = SUBJECTS.map(refOf);
    const now = await subgraph.query(AS_OF, { representations }, reader);
    const asOf = await subgraph.query(AS_OF, { representations, asOf: new Date().toISOString() }, reader);
    expect(asOf.data).toEqual(now.data);
  });
});
