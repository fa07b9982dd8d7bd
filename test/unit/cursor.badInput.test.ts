import { describe, expect, it } from 'vitest';
import { decodeArtistCursor, decodeNumericCursor, encodeCursor, parseFirst } from '../../src/consent/cursor.js';
import { InvalidInputError } from '../../src/consent/errors.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('cursors this service did not issue', () => {
  it.each([
    ['an empty string', ''],
    ['plain digits', '17'],
    ['base64 with padding', Buffer.from('g:55').toString('base64')],
    ['standard base64 characters', 'Zz+/'],
    ['a history cursor', encodeCursor('history', 5)],
    ['an artist cursor', encodeCursor('artists', 'a-1')],
    ['position zero', b64('g:0')],
    ['a negative position', b64('g:-1')],
    ['a leading zero', b64('g:01')],
    ['an exponent', b64('g:1e3')],
    ['a fraction', b64('g:1.5')],
    ['an unsafe integer', b64('g:99999999999999999')],
    ['trailing text', b64('g:5 ')],
    ['a JSON operator', b64('g:{"$gt":0}')],
    ['an over-long string', 'A'.repeat(300)],
  ])('refuses %s as a feed cursor with InvalidInputError', (_name, cursor) => {
    expect(() => decodeNumericCursor(cursor, 'feed')).toThrow(InvalidInputError);
    expect(() => decodeNumericCursor(cursor, 'feed')).toThrow(/after must be an endCursor or cursor returned by this field \(feed cursor\), but got/);
  });

  it('refuses a non-string cursor, naming its type', () => {
    expect(() => decodeNumericCursor(42, 'feed')).toThrow(/but got: number/);
    expect(() => decodeNumericCursor({ $gt: 0 }, 'history')).toThrow(InvalidInputError);
  });

  it('refuses a non-canonical encoding of a real cursor', () => {
    const real = encodeCursor('feed', 55);
    // Same decoded bytes with different unused trailing bits: only the exact issued text counts.
    const last = real.at(-1)!;
    const sibling = real.slice(0, -1) + String.fromCharCode(last.charCodeAt(0) + 1);
    expect(Buffer.from(sibling, 'base64url').toString()).toBe('g:55');
    expect(() => decodeNumericCursor(sibling, 'feed')).toThrow(InvalidInputError);
  });

  it('refuses an artist cursor holding a malformed id', () => {
    expect(() => decodeArtistCursor(b64('a:'))).toThrow(InvalidInputError);
    expect(() => decodeArtistCursor(b64('a:../x'))).toThrow(InvalidInputError);
    expect(() => decodeArtistCursor(encodeCursor('feed', 3))).toThrow(/artists cursor/);
  });

  it('quotes a long bad cursor shortened', () => {
    expect(() => decodeNumericCursor('B'.repeat(150), 'feed')).toThrow(/"B{57}\.\.\."/);
  });
});

describe('parseFirst out of range', () => {
  it.each([[0], [-1], [101], [1.5], [Number.NaN], ['10'], [null]])('refuses %s with the cap in the message', (value) => {
    expect(() => parseFirst(value, 100)).toThrow(InvalidInputError);
    expect(() => parseFirst(value, 100)).toThrow(/first must be an integer from 1 to 100/);
  });
});
