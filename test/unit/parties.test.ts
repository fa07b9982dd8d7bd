import { describe, expect, it } from 'vitest';
import { partiesOf, type Credits, type CreditRole } from '../../src/consent/credits.js';
import { decide } from '../../src/consent/decide.js';
import {
  decideAllParties,
  decideParties,
  statementsOfParties,
  trackSubjectsOf,
  type PartiesDecision,
  type PartyStatements,
} from '../../src/consent/parties.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import { PURPOSES, type Purpose } from '../../src/consent/purposes.js';
import type { Statement, Subject } from '../../src/consent/statement.js';
import { aStatement, aTrackStatement, atOffset } from '../helpers/builders.js';

const NOW = atOffset(60_000);
const TRACK = 'track-1';

/** Credits of TRACK: main 'main' unless overridden, no one else. */
function credits(overrides: Partial<Credits> = {}): Credits {
  return { mainArtistId: 'main', featuredArtistIds: [], originalArtistIds: [], ...overrides };
}

/** A party of TRACK with the given artist-wide and track statements. */
function aParty(artistId: string, role: CreditRole, artist: Statement[] = [], track: Statement[] = []): PartyStatements {
  return { artistId, role, statements: { track, artist } };
}

function decideNow(purpose: Purpose, ...parties: PartyStatements[]): PartiesDecision {
  return decideParties(purpose, parties, NOW, DEFAULT_POLICY);
}

/** Who decided and how, for compact expectations. */
function outcome(d: PartiesDecision): { allowed: boolean; basis: string; scope: string; statementId: string | null } {
  return { allowed: d.allowed, basis: d.basis, scope: d.scope, statementId: d.statement?.id ?? null };
}

describe('partiesOf', () => {
  it('lists MAIN first, then FEATURED, then ORIGINAL, each in the catalog order', () => {
    expect(partiesOf(credits({ featuredArtistIds: ['f2', 'f1'], originalArtistIds: ['o2', 'o1'] }))).toEqual([
      { artistId: 'main', role: 'MAIN' },
      { artistId: 'f2', role: 'FEATURED' },
      { artistId: 'f1', role: 'FEATURED' },
      { artistId: 'o2', role: 'ORIGINAL' },
      { artistId: 'o1', role: 'ORIGINAL' },
    ]);
  });

  it('counts an artist credited twice once, under the first role', () => {
    expect(
      partiesOf(credits({ featuredArtistIds: ['main', 'f1', 'f1'], originalArtistIds: ['f1', 'o1', 'main'] })),
    ).toEqual([
      { artistId: 'main', role: 'MAIN' },
      { artistId: 'f1', role: 'FEATURED' },
      { artistId: 'o1', role: 'ORIGINAL' },
    ]);
  });

  it('gives an artist with no other credits a single MAIN party', () => {
    expect(partiesOf(credits())).toEqual([{ artistId: 'main', role: 'MAIN' }]);
  });
});

describe('trackSubjectsOf', () => {
  it("asks for each party's statements about the track and its artist-wide statements, and nobody else's", () => {
    expect(trackSubjectsOf(TRACK, partiesOf(credits({ featuredArtistIds: ['f1'] })))).toEqual([
      { artistId: 'main', trackId: TRACK },
      { artistId: 'main', trackId: null },
      { artistId: 'f1', trackId: TRACK },
      { artistId: 'f1', trackId: null },
    ]);
  });
});

describe('statementsOfParties', () => {
  const ledger = new Map<string, Statement[]>([
    ['main/track-1', [aTrackStatement({ artistId: 'main', id: 'main-track' })]],
    ['main/', [aStatement({ artistId: 'main', id: 'main-artist' })]],
    ['f1/', [aStatement({ artistId: 'f1', id: 'f1-artist' })]],
  ]);
  const lookup = (s: Subject): Statement[] => ledger.get(`${s.artistId}/${s.trackId ?? ''}`) ?? [];

  it("gives each party its own track statements first, then its artist-wide ones", () => {
    const gathered = statementsOfParties(partiesOf(credits({ featuredArtistIds: ['f1'] })), TRACK, lookup);
    expect(gathered.map((p) => [p.artistId, p.role, p.statements.track?.map((s) => s.id), p.statements.artist.map((s) => s.id)])).toEqual([
      ['main', 'MAIN', ['main-track'], ['main-artist']],
      ['f1', 'FEATURED', [], ['f1-artist']],
    ]);
  });

  it('looks up no track statements for an artist asked about as a whole', () => {
    const asked: Subject[] = [];
    const gathered = statementsOfParties(partiesOf(credits()), null, (s) => {
      asked.push(s);
      return lookup(s);
    });
    expect(asked).toEqual([{ artistId: 'main', trackId: null }]);
    expect(gathered[0]!.statements.track).toBeNull();
  });
});

describe('decideParties on AI purposes', () => {
  it('lets a featured vocalist who denies VOICE_REPLICATION block a track whose main artist allows GENERATIVE_AI_TRAINING', () => {
    const mainAllows = aStatement({ artistId: 'main', purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' });
    const vocalistAllows = aStatement({ artistId: 'vocalist', purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' });
    const vocalistDenies = aTrackStatement({ artistId: 'vocalist', purpose: 'VOICE_REPLICATION', choice: 'DENY' });
    const parties = [aParty('main', 'MAIN', [mainAllows]), aParty('vocalist', 'FEATURED', [vocalistAllows], [vocalistDenies])];

    const voice = decideParties('VOICE_REPLICATION', parties, NOW, DEFAULT_POLICY);
    expect(outcome(voice)).toEqual({ allowed: false, basis: 'EXPLICIT', scope: 'TRACK', statementId: vocalistDenies.id });
    expect(voice.parties.map((p) => [p.artistId, p.role, p.allowed, p.basis])).toEqual([
      ['main', 'MAIN', true, 'INHERITED'],
      ['vocalist', 'FEATURED', false, 'EXPLICIT'],
    ]);
    // The vocalist's refusal is about their voice only: generative training as such stays allowed.
    expect(decideParties('GENERATIVE_AI_TRAINING', parties, NOW, DEFAULT_POLICY).allowed).toBe(true);
  });

  it("blocks a remix when an original artist denies, whatever the remixer allows", () => {
    const remixerAllows = aStatement({ artistId: 'remixer', purpose: 'AI_TRAINING', choice: 'ALLOW' });
    const originalDenies = aStatement({ artistId: 'original', purpose: 'MUSIC_REPLICATION', choice: 'DENY' });
    const d = decideNow(
      'MUSIC_REPLICATION',
      aParty('remixer', 'MAIN', [remixerAllows]),
      aParty('original', 'ORIGINAL', [aStatement({ artistId: 'original', purpose: 'AI_TRAINING', choice: 'ALLOW' }), originalDenies]),
    );
    expect(outcome(d)).toEqual({ allowed: false, basis: 'EXPLICIT', scope: 'ARTIST', statementId: originalDenies.id });
    expect(d.parties.map((p) => p.role)).toEqual(['MAIN', 'ORIGINAL']);
  });

  it('blocks AI use when a credited artist has said nothing, because AI use is opt-in for each of them', () => {
    const d = decideNow(
      'AI_INFERENCE',
      aParty('main', 'MAIN', [aStatement({ artistId: 'main', purpose: 'AI_INFERENCE', choice: 'ALLOW' })]),
      aParty('f1', 'FEATURED'),
    );
    expect(outcome(d)).toEqual({ allowed: false, basis: 'DEFAULT', scope: 'PLATFORM', statementId: null });
    expect(d.parties[1]).toMatchObject({ artistId: 'f1', allowed: false, basis: 'DEFAULT' });
  });

  it("allows only when every party allows, and then reports MAIN's statement", () => {
    const mainAllows = aTrackStatement({ artistId: 'main', purpose: 'AI_TRAINING', choice: 'ALLOW' });
    const d = decideNow(
      'NON_GENERATIVE_AI_TRAINING',
      aParty('main', 'MAIN', [], [mainAllows]),
      aParty('f1', 'FEATURED', [aStatement({ artistId: 'f1', purpose: 'NON_GENERATIVE_AI_TRAINING', choice: 'ALLOW' })]),
      aParty('o1', 'ORIGINAL', [aStatement({ artistId: 'o1', purpose: 'AI_TRAINING', choice: 'ALLOW' })]),
    );
    expect(outcome(d)).toEqual({ allowed: true, basis: 'INHERITED', scope: 'TRACK', statementId: mainAllows.id });
    expect(d.parties.map((p) => p.allowed)).toEqual([true, true, true]);
  });

  it('reports the first denying party in credit order when several deny', () => {
    const allow = (artistId: string): Statement => aStatement({ artistId, purpose: 'AI_TRAINING', choice: 'ALLOW' });
    const deny = (artistId: string): Statement => aStatement({ artistId, purpose: 'AI_TRAINING', choice: 'DENY' });
    const d = decideNow('AI_TRAINING', aParty('main', 'MAIN', [allow('main')]), aParty('f1', 'FEATURED', [allow('f1')]),
      aParty('f2', 'FEATURED', [deny('f2')]), aParty('o1', 'ORIGINAL', [deny('o1')]));
    expect(d.statement?.artistId).toBe('f2');
    expect(d.parties.map((p) => p.allowed)).toEqual([true, true, false, false]);
  });

  it('reports MAIN when MAIN itself denies, even if later parties deny too', () => {
    const mainDenies = aStatement({ artistId: 'main', purpose: 'AI_TRAINING', choice: 'DENY' });
    const d = decideNow('VOICE_REPLICATION', aParty('main', 'MAIN', [mainDenies]), aParty('f1', 'FEATURED'));
    expect(outcome(d)).toEqual({ allowed: false, basis: 'INHERITED', scope: 'ARTIST', statementId: mainDenies.id });
  });

  it('counts an artist listed twice once, under its first role', () => {
    const f1Denies = aStatement({ artistId: 'f1', purpose: 'AI_TRAINING', choice: 'DENY' });
    const d = decideNow('AI_TRAINING', aParty('main', 'MAIN'), aParty('f1', 'FEATURED', [f1Denies]), aParty('f1', 'ORIGINAL', [f1Denies]));
    expect(d.parties.map((p) => [p.artistId, p.role])).toEqual([['main', 'MAIN'], ['f1', 'FEATURED']]);
  });
});

describe('decideParties on RECOMMENDATION and ADVERTISING', () => {
  for (const purpose of ['RECOMMENDATION', 'ADVERTISING'] as const) {
    it(`ignores a featured or original DENY of ${purpose}: MAIN decides alone and is the only party listed`, () => {
      const d = decideNow(
        purpose,
        aParty('main', 'MAIN'),
        aParty('f1', 'FEATURED', [aStatement({ artistId: 'f1', purpose, choice: 'DENY' })]),
        aParty('o1', 'ORIGINAL', [aStatement({ artistId: 'o1', purpose, choice: 'DENY' })]),
      );
      expect(outcome(d)).toEqual({ allowed: true, basis: 'DEFAULT', scope: 'PLATFORM', statementId: null });
      expect(d.parties).toEqual([{ artistId: 'main', role: 'MAIN', allowed: true, basis: 'DEFAULT', scope: 'PLATFORM', statement: null }]);
    });
  }

  it("follows MAIN's DENY of RECOMMENDATION", () => {
    const mainDenies = aStatement({ artistId: 'main', purpose: 'RECOMMENDATION', choice: 'DENY' });
    expect(outcome(decideNow('RECOMMENDATION', aParty('main', 'MAIN', [mainDenies]), aParty('f1', 'FEATURED')))).toEqual({
      allowed: false, basis: 'EXPLICIT', scope: 'ARTIST', statementId: mainDenies.id,
    });
  });
});

describe("an artist's own consent", () => {
  it('is one MAIN party whose answer is exactly decide() for every purpose', () => {
    const artist = [
      aStatement({ artistId: 'main', purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' }),
      aStatement({ artistId: 'main', purpose: 'ADVERTISING', choice: 'DENY' }),
    ];
    const all = decideAllParties([{ artistId: 'main', role: 'MAIN', statements: { track: null, artist } }], NOW, DEFAULT_POLICY);
    expect(all.map((d) => d.purpose)).toEqual([...PURPOSES]);
    for (const d of all) {
      const expected = decide(d.purpose, { track: null, artist }, NOW, DEFAULT_POLICY);
      const { parties, ...top } = d;
      expect(top).toEqual(expected);
      expect(parties).toEqual([
        { artistId: 'main', role: 'MAIN', allowed: expected.allowed, basis: expected.basis, scope: expected.scope, statement: expected.statement },
      ]);
    }
  });
});

describe('a statement filed under an artist and a track', () => {
  const ledger = [
    aStatement({ artistId: 'main', purpose: 'AI_TRAINING', choice: 'ALLOW' }),
    aStatement({ artistId: 'stranger', purpose: 'AI_TRAINING', choice: 'ALLOW' }),
    aTrackStatement({ id: 'stranger-denies', artistId: 'stranger', trackId: TRACK, purpose: 'AI_TRAINING', choice: 'DENY' }),
  ];
  const lookup = (s: Subject): Statement[] => ledger.filter((x) => x.artistId === s.artistId && x.trackId === s.trackId);
  const decideTrack = (c: Credits): PartiesDecision =>
    decideParties('AI_TRAINING', statementsOfParties(partiesOf(c), TRACK, lookup), NOW, DEFAULT_POLICY);

  it('is ignored while the catalog does not credit that artist on the track', () => {
    expect(decideTrack(credits()).allowed).toBe(true);
  });

  it('counts once the catalog credits that artist on the track', () => {
    expect(outcome(decideTrack(credits({ originalArtistIds: ['stranger'] })))).toEqual({
      allowed: false, basis: 'EXPLICIT', scope: 'TRACK', statementId: 'stranger-denies',
    });
  });
});
