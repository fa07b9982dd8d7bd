import { describe, expect, it } from 'vitest';
import { MAX_CREDITED_ARTISTS, parseCredits } from '../../src/consent/credits.js';
import { InvalidInputError } from '../../src/consent/errors.js';
import { decideAllParties, decideParties, type PartyStatements } from '../../src/consent/parties.js';
import { DEFAULT_POLICY } from '../../src/consent/policy.js';
import { aStatement } from '../helpers/builders.js';

const PATH = 'requests[3]';
const ids = (n: number, prefix = 'a'): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** The InvalidInputError parseCredits throws for `input`; fails the test if it returns instead. */
function refusal(input: unknown): InvalidInputError {
  try {
    parseCredits(input, PATH);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error(`parseCredits accepted ${JSON.stringify(input)}`);
}

describe('parseCredits given bad input', () => {
  it.each([
    ['credits that are not an object', 'main', `${PATH} must be an object`, PATH],
    ['credits that are a list', ['main'], `${PATH} must be an object`, PATH],
    ['a missing main artist', { featuredArtistIds: ['f1'] }, `${PATH}.mainArtistId must be a string`, `${PATH}.mainArtistId`],
    ['an operator object as the main artist', { mainArtistId: { $ne: null } }, '{"$ne":null}', `${PATH}.mainArtistId`],
    ['featured ids that are not a list', { mainArtistId: 'm', featuredArtistIds: 'f1' }, `${PATH}.featuredArtistIds must be a list of artist ids, but got: "f1"`, `${PATH}.featuredArtistIds`],
    ['original ids that are an object', { mainArtistId: 'm', originalArtistIds: { 0: 'o1' } }, `${PATH}.originalArtistIds must be a list`, `${PATH}.originalArtistIds`],
    ['a number among the featured ids', { mainArtistId: 'm', featuredArtistIds: ['f1', 42] }, 'but got: 42', `${PATH}.featuredArtistIds[1]`],
    ['an operator object among the original ids', { mainArtistId: 'm', originalArtistIds: [{ $gt: '' }] }, '{"$gt":""}', `${PATH}.originalArtistIds[0]`],
    ['a null among the featured ids', { mainArtistId: 'm', featuredArtistIds: [null] }, 'but got: null', `${PATH}.featuredArtistIds[0]`],
    ['an id with a slash (the key separator)', { mainArtistId: 'm', featuredArtistIds: ['a/b'] }, '"a/b"', `${PATH}.featuredArtistIds[0]`],
    ['a featured artist listed twice', { mainArtistId: 'm', featuredArtistIds: ['f1', 'f2', 'f1'] }, `"f1" appears again at ${PATH}.featuredArtistIds[2]`, `${PATH}.featuredArtistIds`],
    ['an original artist listed twice', { mainArtistId: 'm', originalArtistIds: ['o1', 'o1'] }, `"o1" appears again at ${PATH}.originalArtistIds[1]`, `${PATH}.originalArtistIds`],
  ])('refuses %s, naming the path and quoting the value', (_name, input, message, field) => {
    const error = refusal(input);
    expect(error.message).toContain(message);
    expect(error.field).toBe(field);
  });

  it(`refuses more than ${MAX_CREDITED_ARTISTS} featured and original artists together`, () => {
    const error = refusal({ mainArtistId: 'm', featuredArtistIds: ids(10, 'f'), originalArtistIds: ids(MAX_CREDITED_ARTISTS - 9, 'o') });
    expect(error.message).toBe(`${PATH}: a track credits at most ${MAX_CREDITED_ARTISTS} featured and original artists together, but got: ${MAX_CREDITED_ARTISTS + 1}`);
  });

  it('refuses an oversized list by its length, before reading any of its ids', () => {
    // Every id is bad too; the error is about the size, so no id was looked at.
    expect(refusal({ mainArtistId: 'm', featuredArtistIds: Array(1_000_000).fill({ $ne: null }) }).message).toMatch(/at most 20 .* but got: 1000000$/);
  });

  it('bounds the quoted value so a huge input cannot bloat the error', () => {
    expect(refusal({ mainArtistId: 'm', featuredArtistIds: 'x'.repeat(10_000) }).message).toMatch(/\.\.\.$/);
  });

  it('accepts exactly the cap, and the same artist in two roles (counted once later, not an error)', () => {
    const featured = ['m', ...ids(9, 'f')];
    const original = [...ids(MAX_CREDITED_ARTISTS - 11, 'o'), 'f-0'];
    expect(featured.length + original.length).toBe(MAX_CREDITED_ARTISTS);
    expect(parseCredits({ mainArtistId: 'm', featuredArtistIds: featured, originalArtistIds: original }, PATH)).toEqual({
      mainArtistId: 'm',
      featuredArtistIds: featured,
      originalArtistIds: original,
    });
  });

  it('reads missing or null lists as no credits', () => {
    const none = { mainArtistId: 'm', featuredArtistIds: [], originalArtistIds: [] };
    expect(parseCredits({ mainArtistId: 'm' }, PATH)).toEqual(none);
    expect(parseCredits({ mainArtistId: 'm', featuredArtistIds: null, originalArtistIds: null }, PATH)).toEqual(none);
  });
});

describe('decideParties given bad input', () => {
  const main: PartyStatements = {
    artistId: 'm',
    role: 'MAIN',
    statements: { track: null, artist: [aStatement({ artistId: 'm', purpose: 'RECOMMENDATION', choice: 'DENY' })] },
  };

  it('throws rather than answer for an invalid time, so a bad time never turns a DENY into ALLOW', () => {
    expect(() => decideParties('RECOMMENDATION', [main], new Date(Number.NaN), DEFAULT_POLICY)).toThrow(InvalidInputError);
    expect(() => decideAllParties([main], new Date(Number.NaN), DEFAULT_POLICY)).toThrow(InvalidInputError);
  });

  it('throws rather than answer without the MAIN party first', () => {
    expect(() => decideParties('AI_TRAINING', [], new Date(), DEFAULT_POLICY)).toThrow(/needs the MAIN party first, but got: no parties/);
    expect(() => decideParties('RECOMMENDATION', [{ ...main, role: 'FEATURED' }, main], new Date(), DEFAULT_POLICY)).toThrow(
      /needs the MAIN party first, but got: FEATURED/,
    );
  });
});
