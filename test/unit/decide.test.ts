import { describe, expect, it } from 'vitest';
import { decide, decideAll, type Decision, type StatementsInForce } from '../../src/consent/decide.js';
import { DEFAULT_POLICY, type Policy } from '../../src/consent/policy.js';
import { PURPOSES, type Purpose } from '../../src/consent/purposes.js';
import type { Statement } from '../../src/consent/statement.js';
import { aStatement, aTrackStatement, atOffset, T0 } from '../helpers/builders.js';

const NOW = atOffset(60_000);

function forArtist(...artist: Statement[]): StatementsInForce {
  return { track: null, artist };
}

function forTrack(track: Statement[], artist: Statement[] = []): StatementsInForce {
  return { track, artist };
}

function decideNow(purpose: Purpose, statements: StatementsInForce, at: Date = NOW): Decision {
  return decide(purpose, statements, at, DEFAULT_POLICY);
}

/** The parts of a decision most tests check, for compact expectations. */
function outcome(d: Decision): { allowed: boolean; basis: string; scope: string; statementId: string | null } {
  return { allowed: d.allowed, basis: d.basis, scope: d.scope, statementId: d.statement?.id ?? null };
}

describe('decide with no statements', () => {
  const expectedDefaults: Record<Purpose, boolean> = {
    AI_TRAINING: false,
    NON_GENERATIVE_AI_TRAINING: false,
    GENERATIVE_AI_TRAINING: false,
    VOICE_REPLICATION: false,
    MUSIC_REPLICATION: false,
    LIKENESS_REPLICATION: false,
    AI_INFERENCE: false,
    RECOMMENDATION: true,
    ADVERTISING: true,
  };

  for (const purpose of PURPOSES) {
    const word = expectedDefaults[purpose] ? 'allows' : 'denies';
    it(`${word} ${purpose} by platform default, reporting the policy version`, () => {
      for (const statements of [forArtist(), forTrack([])]) {
        expect(decideNow(purpose, statements)).toEqual({
          purpose,
          allowed: expectedDefaults[purpose],
          basis: 'DEFAULT',
          scope: 'PLATFORM',
          statement: null,
          policyVersion: DEFAULT_POLICY.version,
        });
      }
    });
  }

  it('uses the defaults and version of the policy it is given', () => {
    const policy: Policy = {
      version: 'test-policy-7',
      defaults: { ...DEFAULT_POLICY.defaults, RECOMMENDATION: 'DENY', AI_INFERENCE: 'ALLOW' },
    };
    expect(decide('RECOMMENDATION', forArtist(), NOW, policy)).toMatchObject({
      allowed: false,
      basis: 'DEFAULT',
      policyVersion: 'test-policy-7',
    });
    expect(decide('AI_INFERENCE', forArtist(), NOW, policy)).toMatchObject({ allowed: true, basis: 'DEFAULT' });
  });
});

describe('decide at one scope', () => {
  it('decides EXPLICIT from a statement about the purpose itself and returns that statement', () => {
    const allowVoice = aStatement({ purpose: 'VOICE_REPLICATION', choice: 'ALLOW' });
    const d = decideNow('VOICE_REPLICATION', forArtist(allowVoice));
    expect(d).toEqual({
      purpose: 'VOICE_REPLICATION',
      allowed: true,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statement: allowVoice,
      policyVersion: DEFAULT_POLICY.version,
    });
    expect(d.statement).toBe(allowVoice);
  });

  it('decides EXPLICIT DENY over an ALLOW default', () => {
    const denyAds = aStatement({ purpose: 'ADVERTISING', choice: 'DENY' });
    expect(outcome(decideNow('ADVERTISING', forArtist(denyAds)))).toEqual({
      allowed: false,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statementId: denyAds.id,
    });
  });

  it('decides INHERITED from a statement about the parent', () => {
    const allowGenerative = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' });
    expect(outcome(decideNow('VOICE_REPLICATION', forArtist(allowGenerative)))).toEqual({
      allowed: true,
      basis: 'INHERITED',
      scope: 'ARTIST',
      statementId: allowGenerative.id,
    });
  });

  it('decides INHERITED from a statement about the grandparent', () => {
    const allowTraining = aStatement({ purpose: 'AI_TRAINING', choice: 'ALLOW' });
    expect(outcome(decideNow('LIKENESS_REPLICATION', forArtist(allowTraining)))).toEqual({
      allowed: true,
      basis: 'INHERITED',
      scope: 'ARTIST',
      statementId: allowTraining.id,
    });
  });

  it('ignores statements about descendants, siblings and other trees', () => {
    const statements = forArtist(
      aStatement({ purpose: 'VOICE_REPLICATION', choice: 'ALLOW' }),
      aStatement({ purpose: 'NON_GENERATIVE_AI_TRAINING', choice: 'ALLOW' }),
      aStatement({ purpose: 'AI_INFERENCE', choice: 'ALLOW' }),
    );
    expect(outcome(decideNow('GENERATIVE_AI_TRAINING', statements))).toMatchObject({ basis: 'DEFAULT', allowed: false });
    expect(outcome(decideNow('MUSIC_REPLICATION', statements))).toMatchObject({ basis: 'DEFAULT', allowed: false });
    expect(outcome(decideNow('AI_TRAINING', statements))).toMatchObject({ basis: 'DEFAULT', allowed: false });
  });

  it('lets a narrower statement beat a broader one, whatever their order or age', () => {
    const allowTraining = aStatement({ purpose: 'AI_TRAINING', choice: 'ALLOW', createdAt: atOffset(2000) });
    const denyGenerative = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'DENY', createdAt: atOffset(1000) });
    for (const statements of [forArtist(allowTraining, denyGenerative), forArtist(denyGenerative, allowTraining)]) {
      expect(outcome(decideNow('GENERATIVE_AI_TRAINING', statements))).toEqual({
        allowed: false,
        basis: 'EXPLICIT',
        scope: 'ARTIST',
        statementId: denyGenerative.id,
      });
      expect(outcome(decideNow('VOICE_REPLICATION', statements))).toEqual({
        allowed: false,
        basis: 'INHERITED',
        scope: 'ARTIST',
        statementId: denyGenerative.id,
      });
      expect(outcome(decideNow('NON_GENERATIVE_AI_TRAINING', statements))).toEqual({
        allowed: true,
        basis: 'INHERITED',
        scope: 'ARTIST',
        statementId: allowTraining.id,
      });
      expect(outcome(decideNow('AI_TRAINING', statements))).toEqual({
        allowed: true,
        basis: 'EXPLICIT',
        scope: 'ARTIST',
        statementId: allowTraining.id,
      });
    }
  });

  it('prefers the parent over the grandparent', () => {
    const denyTraining = aStatement({ purpose: 'AI_TRAINING', choice: 'DENY' });
    const allowGenerative = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' });
    expect(decideNow('MUSIC_REPLICATION', forArtist(denyTraining, allowGenerative)).statement).toBe(allowGenerative);
  });
});

describe('decide across track and artist scopes', () => {
  it('lets a track statement beat an artist statement about the same purpose', () => {
    const artistAllows = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' });
    const trackDenies = aTrackStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'DENY' });
    expect(outcome(decideNow('GENERATIVE_AI_TRAINING', forTrack([trackDenies], [artistAllows])))).toEqual({
      allowed: false,
      basis: 'EXPLICIT',
      scope: 'TRACK',
      statementId: trackDenies.id,
    });
  });

  it('lets a track statement about an ancestor beat an artist statement about the purpose itself', () => {
    const artistAllowsVoice = aStatement({ purpose: 'VOICE_REPLICATION', choice: 'ALLOW' });
    const trackDeniesTraining = aTrackStatement({ purpose: 'AI_TRAINING', choice: 'DENY' });
    expect(outcome(decideNow('VOICE_REPLICATION', forTrack([trackDeniesTraining], [artistAllowsVoice])))).toEqual({
      allowed: false,
      basis: 'INHERITED',
      scope: 'TRACK',
      statementId: trackDeniesTraining.id,
    });
  });

  it('lets a track ALLOW beat an artist DENY', () => {
    const artistDenies = aStatement({ purpose: 'AI_INFERENCE', choice: 'DENY' });
    const trackAllows = aTrackStatement({ purpose: 'AI_INFERENCE', choice: 'ALLOW' });
    expect(outcome(decideNow('AI_INFERENCE', forTrack([trackAllows], [artistDenies])))).toMatchObject({
      allowed: true,
      scope: 'TRACK',
    });
  });

  it('leaves purposes the track says nothing about, including its ancestors, to the artist', () => {
    const trackDeniesVoice = aTrackStatement({ purpose: 'VOICE_REPLICATION', choice: 'DENY' });
    const artistAllowsGenerative = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' });
    const artistAllowsTraining = aStatement({ purpose: 'AI_TRAINING', choice: 'ALLOW' });
    const statements = forTrack([trackDeniesVoice], [artistAllowsGenerative, artistAllowsTraining]);

    expect(outcome(decideNow('VOICE_REPLICATION', statements))).toMatchObject({ allowed: false, scope: 'TRACK' });
    expect(outcome(decideNow('MUSIC_REPLICATION', statements))).toEqual({
      allowed: true,
      basis: 'INHERITED',
      scope: 'ARTIST',
      statementId: artistAllowsGenerative.id,
    });
    expect(outcome(decideNow('GENERATIVE_AI_TRAINING', statements))).toEqual({
      allowed: true,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statementId: artistAllowsGenerative.id,
    });
    expect(outcome(decideNow('AI_TRAINING', statements))).toEqual({
      allowed: true,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statementId: artistAllowsTraining.id,
    });
    expect(outcome(decideNow('NON_GENERATIVE_AI_TRAINING', statements))).toMatchObject({
      basis: 'INHERITED',
      scope: 'ARTIST',
      statementId: artistAllowsTraining.id,
    });
  });

  it('lets the artist decide when the track has no statements', () => {
    const artistDeniesAds = aStatement({ purpose: 'ADVERTISING', choice: 'DENY' });
    expect(outcome(decideNow('ADVERTISING', forTrack([], [artistDeniesAds])))).toEqual({
      allowed: false,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statementId: artistDeniesAds.id,
    });
  });

  it('answers an artist question (track null) from the artist statements alone, never at TRACK scope', () => {
    const allowGenerative = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW' });
    const denyAds = aStatement({ purpose: 'ADVERTISING', choice: 'DENY' });
    const artistOnly = forArtist(allowGenerative, denyAds);
    const withEmptyTrack = forTrack([], [allowGenerative, denyAds]);
    for (const purpose of PURPOSES) {
      const d = decideNow(purpose, artistOnly);
      expect(d.scope).not.toBe('TRACK');
      expect(d).toEqual(decideNow(purpose, withEmptyTrack));
    }
    expect(outcome(decideNow('VOICE_REPLICATION', artistOnly))).toMatchObject({ allowed: true, scope: 'ARTIST' });
    expect(outcome(decideNow('ADVERTISING', artistOnly))).toMatchObject({ allowed: false, scope: 'ARTIST' });
  });
});

describe('decide over time', () => {
  it('counts a statement made exactly at the query time and ignores one made after it', () => {
    const allow = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW', createdAt: atOffset(1000) });
    expect(decideNow('GENERATIVE_AI_TRAINING', forArtist(allow), atOffset(999))).toMatchObject({
      allowed: false,
      basis: 'DEFAULT',
      statement: null,
    });
    expect(decideNow('GENERATIVE_AI_TRAINING', forArtist(allow), atOffset(1000))).toMatchObject({
      allowed: true,
      basis: 'EXPLICIT',
      statement: allow,
    });
  });

  it('keeps a statement in force 1 ms before its expiry and treats it as expired exactly at expiresAt', () => {
    const allow = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW', expiresAt: atOffset(5000) });
    expect(decideNow('GENERATIVE_AI_TRAINING', forArtist(allow), atOffset(4999))).toMatchObject({
      allowed: true,
      basis: 'EXPLICIT',
    });
    for (const at of [atOffset(5000), atOffset(5001)]) {
      expect(decideNow('GENERATIVE_AI_TRAINING', forArtist(allow), at)).toMatchObject({
        allowed: false,
        basis: 'DEFAULT',
        scope: 'PLATFORM',
        statement: null,
      });
    }
  });

  it('falls back to the broader statement once the narrower one has expired', () => {
    const allowTraining = aStatement({ purpose: 'AI_TRAINING', choice: 'ALLOW' });
    const denyVoice = aStatement({ purpose: 'VOICE_REPLICATION', choice: 'DENY', expiresAt: atOffset(5000) });
    const statements = forArtist(allowTraining, denyVoice);
    expect(decideNow('VOICE_REPLICATION', statements, atOffset(4999)).statement).toBe(denyVoice);
    expect(outcome(decideNow('VOICE_REPLICATION', statements, atOffset(5000)))).toEqual({
      allowed: true,
      basis: 'INHERITED',
      scope: 'ARTIST',
      statementId: allowTraining.id,
    });
  });

  it('falls back to the artist once the track statement has expired', () => {
    const trackDenies = aTrackStatement({ purpose: 'RECOMMENDATION', choice: 'DENY', expiresAt: atOffset(5000) });
    const artistDenies = aStatement({ purpose: 'RECOMMENDATION', choice: 'DENY' });
    expect(decideNow('RECOMMENDATION', forTrack([trackDenies], [artistDenies]), atOffset(4999)).scope).toBe('TRACK');
    expect(outcome(decideNow('RECOMMENDATION', forTrack([trackDenies], [artistDenies]), atOffset(5000)))).toEqual({
      allowed: false,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statementId: artistDenies.id,
    });
  });

  it('ignores a track statement made after the query time and lets the artist decide', () => {
    const trackAllows = aTrackStatement({ purpose: 'AI_INFERENCE', choice: 'ALLOW', createdAt: atOffset(1000) });
    const artistDenies = aStatement({ purpose: 'AI_INFERENCE', choice: 'DENY' });
    expect(outcome(decideNow('AI_INFERENCE', forTrack([trackAllows], [artistDenies]), atOffset(500)))).toMatchObject({
      allowed: false,
      scope: 'ARTIST',
    });
  });

  it('does not revive an older statement when the latest one about the same purpose has expired', () => {
    const olderAllow = aStatement({ purpose: 'GENERATIVE_AI_TRAINING', choice: 'ALLOW', createdAt: T0 });
    const laterDeny = aStatement({
      purpose: 'GENERATIVE_AI_TRAINING',
      choice: 'DENY',
      createdAt: atOffset(1000),
      expiresAt: atOffset(2000),
    });
    for (const statements of [forArtist(olderAllow, laterDeny), forArtist(laterDeny, olderAllow)]) {
      expect(decideNow('GENERATIVE_AI_TRAINING', statements, atOffset(500)).statement).toBe(olderAllow);
      expect(decideNow('GENERATIVE_AI_TRAINING', statements, atOffset(1500)).statement).toBe(laterDeny);
      expect(decideNow('GENERATIVE_AI_TRAINING', statements, atOffset(2000))).toMatchObject({
        allowed: false,
        basis: 'DEFAULT',
        statement: null,
      });
    }
  });

  it('lets the latest statement about a purpose replace an older one at the same scope', () => {
    const olderDeny = aStatement({ purpose: 'RECOMMENDATION', choice: 'DENY', createdAt: T0 });
    const laterAllow = aStatement({ purpose: 'RECOMMENDATION', choice: 'ALLOW', createdAt: atOffset(1000) });
    for (const statements of [forArtist(olderDeny, laterAllow), forArtist(laterAllow, olderDeny)]) {
      expect(decideNow('RECOMMENDATION', statements, atOffset(999)).statement).toBe(olderDeny);
      expect(decideNow('RECOMMENDATION', statements, atOffset(1000)).statement).toBe(laterAllow);
    }
  });
});

describe('decideAll', () => {
  it('returns one decision per purpose in tree order, each as decide would give it', () => {
    const statements = forTrack(
      [aTrackStatement({ purpose: 'VOICE_REPLICATION', choice: 'DENY' })],
      [aStatement({ purpose: 'AI_TRAINING', choice: 'ALLOW' }), aStatement({ purpose: 'ADVERTISING', choice: 'DENY' })],
    );
    const all = decideAll(statements, NOW, DEFAULT_POLICY);
    expect(all.map((d) => d.purpose)).toEqual([...PURPOSES]);
    expect(all).toEqual(PURPOSES.map((p) => decideNow(p, statements)));
  });

  it('returns the platform defaults in tree order when there are no statements', () => {
    expect(decideAll(forArtist(), NOW, DEFAULT_POLICY).map((d) => [d.purpose, d.allowed, d.basis])).toEqual([
      ['AI_TRAINING', false, 'DEFAULT'],
      ['NON_GENERATIVE_AI_TRAINING', false, 'DEFAULT'],
      ['GENERATIVE_AI_TRAINING', false, 'DEFAULT'],
      ['VOICE_REPLICATION', false, 'DEFAULT'],
      ['MUSIC_REPLICATION', false, 'DEFAULT'],
      ['LIKENESS_REPLICATION', false, 'DEFAULT'],
      ['AI_INFERENCE', false, 'DEFAULT'],
      ['RECOMMENDATION', true, 'DEFAULT'],
      ['ADVERTISING', true, 'DEFAULT'],
    ]);
  });
});

describe('the DESIGN scenario', () => {
  const allowGenerative = aStatement({
    id: 'allow-generative',
    purpose: 'GENERATIVE_AI_TRAINING',
    choice: 'ALLOW',
    createdAt: atOffset(1000),
  });
  const denyVoice = aStatement({
    id: 'deny-voice',
    purpose: 'VOICE_REPLICATION',
    choice: 'DENY',
    createdAt: atOffset(2000),
  });
  const trackDeniesTraining = aTrackStatement({
    id: 'track-deny-training',
    purpose: 'AI_TRAINING',
    choice: 'DENY',
    createdAt: atOffset(3000),
  });

  it('an artist ALLOW of generative training allows generative and voice, but not non-generative or AI training', () => {
    const byPurpose = Object.fromEntries(decideAll(forArtist(allowGenerative), NOW, DEFAULT_POLICY).map((d) => [d.purpose, outcome(d)]));
    expect(byPurpose.GENERATIVE_AI_TRAINING).toEqual({
      allowed: true,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statementId: 'allow-generative',
    });
    expect(byPurpose.VOICE_REPLICATION).toEqual({
      allowed: true,
      basis: 'INHERITED',
      scope: 'ARTIST',
      statementId: 'allow-generative',
    });
    const notAllowedByDefault = { allowed: false, basis: 'DEFAULT', scope: 'PLATFORM', statementId: null };
    expect(byPurpose.NON_GENERATIVE_AI_TRAINING).toEqual(notAllowedByDefault);
    expect(byPurpose.AI_TRAINING).toEqual(notAllowedByDefault);
  });

  it('then a DENY of voice denies voice explicitly and keeps music allowed', () => {
    const statements = forArtist(allowGenerative, denyVoice);
    expect(outcome(decideNow('VOICE_REPLICATION', statements))).toEqual({
      allowed: false,
      basis: 'EXPLICIT',
      scope: 'ARTIST',
      statementId: 'deny-voice',
    });
    expect(outcome(decideNow('MUSIC_REPLICATION', statements))).toEqual({
      allowed: true,
      basis: 'INHERITED',
      scope: 'ARTIST',
      statementId: 'allow-generative',
    });
  });

  it('then a track DENY of AI training denies that track generative and voice, inherited at track scope', () => {
    const statements = forTrack([trackDeniesTraining], [allowGenerative, denyVoice]);
    for (const purpose of ['GENERATIVE_AI_TRAINING', 'VOICE_REPLICATION', 'MUSIC_REPLICATION'] as const) {
      expect(outcome(decideNow(purpose, statements)), purpose).toEqual({
        allowed: false,
        basis: 'INHERITED',
        scope: 'TRACK',
        statementId: 'track-deny-training',
      });
    }
    // The artist's other tracks (and the artist itself) keep the artist's settings.
    expect(outcome(decideNow('MUSIC_REPLICATION', forTrack([], [allowGenerative, denyVoice])))).toMatchObject({
      allowed: true,
      scope: 'ARTIST',
    });
  });
});
