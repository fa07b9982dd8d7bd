import { describe, expect, it } from 'vitest';
import { decodeArtistCursor, decodeNumericCursor, encodeCursor, parseFirst } from '../../src/consent/cursor.js';

describe('opaque cursors', () => {
  it('round-trips feed and history positions and artist ids', () => {
    expect(decodeNumericCursor(encodeCursor('feed', 1), 'feed')).toBe(1);
    expect(decodeNumericCursor(encodeCursor('feed', 987_654_321), 'feed')).toBe(987_654_321);
    expect(decodeNumericCursor(encodeCursor('history', 42), 'history')).toBe(42);
    expect(decodeArtistCursor(encodeCursor('artists', 'artist-aurora.2:x'))).toBe('artist-aurora.2:x');
  });

  it('is base64url text that shows no raw position', () => {
    const cursor = encodeCursor('feed', 1234);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('1234');
  });

  it('keeps the order of positions when encoded and decoded in turn', () => {
    const positions = [1, 2, 9, 10, 99, 100, 12345];
    expect(positions.map((p) => decodeNumericCursor(encodeCursor('feed', p), 'feed'))).toEqual(positions);
  });
});

describe('parseFirst', () => {
  it('accepts 1 up to the cap', () => {
    expect(parseFirst(1, 100)).toBe(1);
    expect(parseFirst(100, 100)).toBe(100);
  });
});
