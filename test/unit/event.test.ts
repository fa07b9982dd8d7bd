import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  canonicalEvent,
  foldEvents,
  hashEvent,
  type ConsentEvent,
  type UnhashedEvent,
} from '../../src/consent/event.js';
import type { Statement } from '../../src/consent/statement.js';
import { aClearEvent, anEvent, aStatement, atOffset } from '../helpers/builders.js';

/** A fully populated event, so every field takes part in the canonical form. */
const FULL: UnhashedEvent = Object.freeze({
  id: 'event-42',
  seq: 3,
  kind: 'SET',
  artistId: 'artist-1',
  trackId: 'track-9',
  purpose: 'VOICE_REPLICATION',
  choice: 'DENY',
  termsVersion: 'tos-2',
  source: 'app',
  actor: 'user-1',
  at: new Date('2026-03-04T05:06:07.089Z'),
  expiresAt: new Date('2027-01-01T00:00:00.000Z'),
  prevHash: 'ab'.repeat(32),
});

describe('canonicalEvent', () => {
  it('is a fixed, versioned JSON array in field order with ISO dates', () => {
    expect(canonicalEvent(FULL)).toBe(
      '["consent-event/v1","event-42",3,"SET","artist-1","track-9","VOICE_REPLICATION","DENY","tos-2","app",' +
        '"user-1","2026-03-04T05:06:07.089Z","2027-01-01T00:00:00.000Z"]',
    );
  });

  it('writes absent values as null', () => {
    const clear: UnhashedEvent = {
      ...FULL,
      seq: 1,
      kind: 'CLEAR',
      trackId: null,
      choice: null,
      termsVersion: null,
      source: null,
      expiresAt: null,
      prevHash: null,
    };
    expect(canonicalEvent(clear)).toBe(
      '["consent-event/v1","event-42",1,"CLEAR","artist-1",null,"VOICE_REPLICATION",null,null,null,' +
        '"user-1","2026-03-04T05:06:07.089Z",null]',
    );
  });

  it('leaves out prevHash and hash, which chain the event rather than describe it', () => {
    const withHash = { ...FULL, prevHash: null, hash: 'f'.repeat(64) } as ConsentEvent;
    expect(canonicalEvent(withHash)).toBe(canonicalEvent(FULL));
  });

  it('ignores key order and extra properties of the object passed', () => {
    const reordered = Object.fromEntries(Object.entries(FULL).reverse()) as unknown as UnhashedEvent;
    expect(canonicalEvent({ ...reordered, extra: 'x' } as UnhashedEvent)).toBe(canonicalEvent(FULL));
  });
});

describe('hashEvent', () => {
  it('is the SHA-256 hex of the canonical event followed by the previous hash', () => {
    expect(hashEvent(FULL)).toBe('752a9d9f99b23e7bf11a4497afc53380f168e733b1be3d30d2905752b79409cb');
    const expected = createHash('sha256')
      .update(canonicalEvent(FULL) + FULL.prevHash)
      .digest('hex');
    expect(hashEvent(FULL)).toBe(expected);
  });

  it('hashes the canonical event alone for the first event of a chain', () => {
    const first = { ...FULL, prevHash: null };
    expect(hashEvent(first)).toBe(createHash('sha256').update(canonicalEvent(first)).digest('hex'));
  });

  it('is deterministic: equal events give equal hashes, whatever the object identity', () => {
    const copy: UnhashedEvent = { ...FULL, at: new Date(FULL.at.getTime()), expiresAt: new Date(FULL.expiresAt!.getTime()) };
    expect(hashEvent(copy)).toBe(hashEvent(FULL));
  });

  it('verifies a stored event: hashing the event with its hash field gives that hash back', () => {
    const event = anEvent({ seq: 2, prevHash: 'cd'.repeat(32), source: 'import' });
    expect(hashEvent(event)).toBe(event.hash);
  });

  const variants: Array<[string, Partial<UnhashedEvent>]> = [
    ['id', { id: 'event-43' }],
    ['seq', { seq: 4 }],
    ['kind', { kind: 'CLEAR' }],
    ['artistId', { artistId: 'artist-2' }],
    ['trackId to another track', { trackId: 'track-10' }],
    ['trackId to null', { trackId: null }],
    ['trackId to the string "null"', { trackId: 'null' }],
    ['purpose', { purpose: 'MUSIC_REPLICATION' }],
    ['choice to the other choice', { choice: 'ALLOW' }],
    ['choice to null', { choice: null }],
    ['termsVersion', { termsVersion: 'tos-3' }],
    ['termsVersion to null', { termsVersion: null }],
    ['source', { source: 'support' }],
    ['source to null', { source: null }],
    ['actor', { actor: 'user-2' }],
    ['at by 1 ms', { at: new Date(FULL.at.getTime() + 1) }],
    ['expiresAt by 1 ms', { expiresAt: new Date(FULL.expiresAt!.getTime() + 1) }],
    ['expiresAt to null', { expiresAt: null }],
    ['prevHash to another hash', { prevHash: 'ac'.repeat(32) }],
    ['prevHash to null', { prevHash: null }],
  ];
  for (const [what, change] of variants) {
    it(`changes when ${what} changes`, () => {
      expect(hashEvent({ ...FULL, ...change })).not.toBe(hashEvent(FULL));
    });
  }

  it('gives twenty different hashes for the twenty single-field changes', () => {
    const hashes = new Set(variants.map(([, change]) => hashEvent({ ...FULL, ...change })));
    hashes.add(hashEvent(FULL));
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('does not let text move between fields to forge the same hash', () => {
    const a = { ...FULL, termsVersion: 'tos', source: '-2app' };
    const b = { ...FULL, termsVersion: 'tos-2', source: 'app' };
    expect(hashEvent(a)).not.toBe(hashEvent(b));
  });
});

describe('applyEvent', () => {
  it('adds a SET as a statement carrying the event id, fields, time and expiry', () => {
    const event = anEvent({
      id: 'event-7',
      trackId: 'track-1',
      purpose: 'MUSIC_REPLICATION',
      choice: 'DENY',
      termsVersion: 'tos-9',
      source: 'app',
      actor: 'user-5',
      at: atOffset(1000),
      expiresAt: atOffset(9000),
    });
    const expected: Statement = {
      id: 'event-7',
      artistId: 'artist-1',
      trackId: 'track-1',
      purpose: 'MUSIC_REPLICATION',
      choice: 'DENY',
      termsVersion: 'tos-9',
      source: 'app',
      actor: 'user-5',
      createdAt: atOffset(1000),
      expiresAt: atOffset(9000),
    };
    expect(applyEvent([], event)).toEqual([expected]);
  });

  it('lets a SET replace the statement about the same purpose and keep the others', () => {
    const voice = aStatement({ purpose: 'VOICE_REPLICATION', choice: 'ALLOW' });
    const ads = aStatement({ purpose: 'ADVERTISING', choice: 'DENY' });
    const set = anEvent({ id: 'event-new', purpose: 'VOICE_REPLICATION', choice: 'DENY', at: atOffset(1000) });
    const after = applyEvent([voice, ads], set);
    expect(after).toHaveLength(2);
    expect(after).toContain(ads);
    expect(after.find((s) => s.purpose === 'VOICE_REPLICATION')).toMatchObject({ id: 'event-new', choice: 'DENY' });
  });

  it('lets a CLEAR remove only the statement about that purpose, not its children or parent', () => {
    const training = aStatement({ purpose: 'AI_TRAINING' });
    const generative = aStatement({ purpose: 'GENERATIVE_AI_TRAINING' });
    const voice = aStatement({ purpose: 'VOICE_REPLICATION' });
    expect(applyEvent([training, generative, voice], aClearEvent({ purpose: 'GENERATIVE_AI_TRAINING' }))).toEqual([
      training,
      voice,
    ]);
  });

  it('treats a CLEAR of a purpose with no statement as no change', () => {
    const voice = aStatement({ purpose: 'VOICE_REPLICATION' });
    expect(applyEvent([voice], aClearEvent({ purpose: 'ADVERTISING' }))).toEqual([voice]);
  });

  it('does not modify the statements it is given', () => {
    const voice = aStatement({ purpose: 'VOICE_REPLICATION' });
    const before = [voice];
    applyEvent(before, anEvent({ purpose: 'VOICE_REPLICATION', choice: 'DENY' }));
    applyEvent(before, aClearEvent({ purpose: 'VOICE_REPLICATION' }));
    expect(before).toEqual([voice]);
  });
});

describe('foldEvents', () => {
  it('gives no statements for no events', () => {
    expect(foldEvents([])).toEqual([]);
  });

  it('applies a chain in order: later SETs replace, CLEARs remove, a SET after a CLEAR restores', () => {
    const e1 = anEvent({ id: 'e1', seq: 1, purpose: 'AI_TRAINING', choice: 'ALLOW', at: atOffset(1) });
    const e2 = anEvent({ id: 'e2', seq: 2, purpose: 'VOICE_REPLICATION', choice: 'DENY', at: atOffset(2), prevHash: e1.hash });
    const e3 = anEvent({ id: 'e3', seq: 3, purpose: 'AI_TRAINING', choice: 'DENY', at: atOffset(3), prevHash: e2.hash });
    const e4 = aClearEvent({ id: 'e4', seq: 4, purpose: 'VOICE_REPLICATION', at: atOffset(4), prevHash: e3.hash });
    const e5 = anEvent({ id: 'e5', seq: 5, purpose: 'ADVERTISING', choice: 'DENY', at: atOffset(5), prevHash: e4.hash });
    const e6 = aClearEvent({ id: 'e6', seq: 6, purpose: 'ADVERTISING', at: atOffset(6), prevHash: e5.hash });
    const e7 = anEvent({ id: 'e7', seq: 7, purpose: 'ADVERTISING', choice: 'ALLOW', at: atOffset(7), prevHash: e6.hash });

    const summary = (events: ConsentEvent[]) =>
      foldEvents(events)
        .map((s) => `${s.purpose}=${s.choice}@${s.id}`)
        .sort();
    expect(summary([e1, e2])).toEqual(['AI_TRAINING=ALLOW@e1', 'VOICE_REPLICATION=DENY@e2']);
    expect(summary([e1, e2, e3])).toEqual(['AI_TRAINING=DENY@e3', 'VOICE_REPLICATION=DENY@e2']);
    expect(summary([e1, e2, e3, e4])).toEqual(['AI_TRAINING=DENY@e3']);
    expect(summary([e1, e2, e3, e4, e5, e6])).toEqual(['AI_TRAINING=DENY@e3']);
    expect(summary([e1, e2, e3, e4, e5, e6, e7])).toEqual(['ADVERTISING=ALLOW@e7', 'AI_TRAINING=DENY@e3']);
  });

  it('equals applying each event in turn', () => {
    const events = [
      anEvent({ seq: 1, purpose: 'RECOMMENDATION', choice: 'DENY' }),
      anEvent({ seq: 2, purpose: 'AI_INFERENCE', choice: 'ALLOW' }),
      aClearEvent({ seq: 3, purpose: 'RECOMMENDATION' }),
    ];
    let expected: Statement[] = [];
    for (const e of events) expected = applyEvent(expected, e);
    expect(foldEvents(events)).toEqual(expected);
  });

  it('keeps at most one statement per purpose', () => {
    const events = [1, 2, 3, 4].map((seq) =>
      anEvent({ seq, purpose: 'GENERATIVE_AI_TRAINING', choice: seq % 2 === 0 ? 'ALLOW' : 'DENY' }),
    );
    const folded = foldEvents(events);
    expect(folded).toHaveLength(1);
    expect(folded[0]).toMatchObject({ id: events[3]!.id, choice: 'ALLOW' });
  });
});
