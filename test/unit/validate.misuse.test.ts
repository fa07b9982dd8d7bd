import { describe, expect, it } from 'vitest';
import { decide, decideAll } from '../../src/consent/decide.js';
import { InvalidInputError } from '../../src/consent/errors.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import { parseClearChange, parseId, parseSetChange, parseSubject } from '../../src/consent/validate.js';
import { aStatement } from '../helpers/builders.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const valid = { subject: { artistId: 'a-1' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1' };

describe('decide given bad input', () => {
  it('throws rather than answer for an invalid query time, so a bad time never turns a DENY into ALLOW', () => {
    const statements = { artist: [aStatement({ purpose: 'RECOMMENDATION', choice: 'DENY' })], track: null };
    expect(() => decide('RECOMMENDATION', statements, new Date(Number.NaN), DEFAULT_POLICY)).toThrow(InvalidInputError);
    expect(() => decideAll(statements, new Date(Number.NaN), DEFAULT_POLICY)).toThrow(InvalidInputError);
  });
});

describe('parseId', () => {
  it.each([
    ['an operator object', { $ne: null }],
    ['a regex operator', { $regex: '.*' }],
    ['a number', 42],
    ['an empty string', ''],
    ['a string over 128 characters', 'a'.repeat(129)],
    ['a slash (the key separator)', 'a/b'],
    ['a leading dot', '.hidden'],
    ['whitespace', 'a b'],
    ['a dollar sign', '$where'],
  ])('refuses %s and quotes it in the message', (_name, value) => {
    expect(() => parseId(value, 'Track.id')).toThrow(InvalidInputError);
    expect(() => parseId(value, 'Track.id')).toThrow(/^Track\.id must be a string of 1 to 128/);
  });

  it('accepts catalog-style ids with colons, dots, dashes and underscores', () => {
    expect(parseId('spotify:track:4uLU6hMCjMI75M1A2tKUQC', 'id')).toBe('spotify:track:4uLU6hMCjMI75M1A2tKUQC');
    expect(parseId('a'.repeat(128), 'id')).toHaveLength(128);
  });

  it('bounds the quoted value so a huge input cannot bloat the error', () => {
    expect(() => parseId('x/'.repeat(10_000), 'id')).toThrow(/\.\.\.$/);
  });
});

describe('parseSubject', () => {
  it('refuses a subject that is not an object', () => {
    expect(() => parseSubject('a-1')).toThrow(/subject must be an object/);
    expect(() => parseSubject([{ artistId: 'a-1' }])).toThrow(/subject must be an object/);
  });

  it('refuses an operator object in the track id', () => {
    expect(() => parseSubject({ artistId: 'a-1', trackId: { $gt: '' } })).toThrow(/subject\.trackId must be/);
  });
});

describe('parseSetChange', () => {
  it('refuses a missing or blank termsVersion', () => {
    expect(() => parseSetChange({ ...valid, termsVersion: undefined }, NOW)).toThrow('termsVersion is required');
    expect(() => parseSetChange({ ...valid, termsVersion: '   ' }, NOW)).toThrow(/termsVersion must be a non-blank string/);
  });

  it('refuses an unknown purpose or choice', () => {
    expect(() => parseSetChange({ ...valid, purpose: 'FACE_SWAP' }, NOW)).toThrow('purpose must be a ConsentPurpose, but got: "FACE_SWAP"');
    expect(() => parseSetChange({ ...valid, choice: 'MAYBE' }, NOW)).toThrow('choice must be ALLOW or DENY, but got: "MAYBE"');
  });

  it('refuses an expiry at or before now', () => {
    expect(() => parseSetChange({ ...valid, expiresAt: NOW }, NOW)).toThrow(/expiresAt must be in the future/);
    expect(() => parseSetChange({ ...valid, expiresAt: new Date('2020-01-01T00:00:00Z') }, NOW)).toThrow(/expiresAt must be in the future/);
  });

  it('refuses source and idempotency keys that are too long or carry control characters', () => {
    expect(() => parseSetChange({ ...valid, source: 'x'.repeat(201) }, NOW)).toThrow(/source must be/);
    expect(() => parseSetChange({ ...valid, idempotencyKey: 'a\nb' }, NOW)).toThrow(/idempotencyKey must be/);
  });
});

describe('parseClearChange', () => {
  it('refuses a clear without a purpose', () => {
    expect(() => parseClearChange({ subject: { artistId: 'a-1' } })).toThrow('purpose must be a ConsentPurpose, but got: undefined');
  });
});
