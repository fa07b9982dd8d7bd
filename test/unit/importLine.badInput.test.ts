import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/consent/errors.js';
import { DERIVED_KEY_PREFIX, parseImportLine } from '../../tools/import/parseImportLine.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const SET = { subject: { artistId: 'ar-1' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1' };
const aLine = (overrides: Record<string, unknown> = {}) => JSON.stringify({ set: SET, actor: 'artist:ar-1', at: '2025-03-01T10:00:00Z', ...overrides });

function refusal(text: string): string {
  try {
    parseImportLine(text, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${text}`);
}

describe('an import line', () => {
  it('is a validated change with the original actor and time as evidence and a derived idempotency key', () => {
    const parsed = parseImportLine(aLine({ set: { ...SET, source: 'legacy-app' } }), NOW);
    expect(parsed.actor).toBe('artist:ar-1');
    expect(parsed.at.toISOString()).toBe('2025-03-01T10:00:00.000Z');
    expect(parsed.change).toMatchObject({ kind: 'SET', subject: { artistId: 'ar-1', trackId: null }, purpose: 'AI_TRAINING', choice: 'ALLOW' });
    expect(parsed.change.kind === 'SET' && parsed.change.source).toBe('import: chosen by artist:ar-1 at 2025-03-01T10:00:00.000Z; source: legacy-app');
    expect(parsed.change.idempotencyKey).toMatch(new RegExp(`^${DERIVED_KEY_PREFIX}[A-Za-z0-9_-]{43}$`));
  });

  it('keeps its own idempotency key', () => {
    expect(parseImportLine(aLine({ set: { ...SET, idempotencyKey: 'legacy-7' } }), NOW).change.idempotencyKey).toBe('legacy-7');
  });

  it('derives the same key whatever the layout, and another key for any other content', () => {
    const key = (text: string) => parseImportLine(text, NOW).change.idempotencyKey;
    const reordered = `{ "at": "2025-03-01T11:00:00+01:00", "actor": "artist:ar-1", "set": {"termsVersion": "tos-1", "choice": "ALLOW", "purpose": "AI_TRAINING", "subject": {"artistId": "ar-1"}} }`;
    expect(key(reordered)).toBe(key(aLine()));
    expect(key(aLine({ at: '2025-03-01T10:00:01Z' }))).not.toBe(key(aLine()));
    expect(key(aLine({ actor: 'support:agent-1' }))).not.toBe(key(aLine()));
    expect(key(aLine({ set: { ...SET, choice: 'DENY' } }))).not.toBe(key(aLine()));
    expect(key(JSON.stringify({ clear: { subject: SET.subject, purpose: 'AI_TRAINING' }, actor: 'artist:ar-1', at: '2025-03-01T10:00:00Z' }))).not.toBe(key(aLine()));
  });

  it('refuses what is not a JSON object with one change', () => {
    expect(refusal('{"set": ')).toMatch(/^the line is not JSON \(/);
    expect(refusal('[1]')).toBe('the line must be a JSON object with "set" or "clear", "actor" and "at", but got: [1]');
    expect(refusal(aLine({ clear: { subject: SET.subject, purpose: 'AI_TRAINING' } }))).toBe('the line must have exactly one of "set" and "clear"');
    expect(refusal(JSON.stringify({ actor: 'a', at: '2025-03-01T10:00:00Z' }))).toBe('the line must have exactly one of "set" and "clear"');
  });

  it('refuses unknown fields, as the GraphQL input types would', () => {
    expect(refusal(aLine({ actr: 'x' }))).toBe(`the line has unknown field "actr"; allowed: set, clear, actor, at`);
    expect(refusal(aLine({ set: { ...SET, credits: {} } }))).toBe(`set has unknown field "credits"; allowed: subject, purpose, choice, termsVersion, expiresAt, source, idempotencyKey`);
    expect(refusal(aLine({ set: { ...SET, subject: { artistId: 'ar-1', $ne: null } } }))).toBe(`set.subject has unknown field "$ne"; allowed: artistId, trackId`);
  });

  it("refuses a change the core refuses, with the core's message", () => {
    expect(refusal(aLine({ set: { ...SET, purpose: 'AI_TRAINNG' } }))).toBe('set: purpose must be a ConsentPurpose, but got: "AI_TRAINNG"');
    expect(refusal(aLine({ set: { ...SET, termsVersion: undefined } }))).toBe('set: termsVersion is required');
    expect(refusal(aLine({ set: { ...SET, subject: { artistId: 'a/b' } } }))).toMatch(/^set: subject\.artistId must be a string of 1 to 128 letters/);
    expect(refusal(aLine({ set: { ...SET, expiresAt: '2026-01-01T00:00:00Z' } }))).toBe(
      'set: expiresAt must be in the future, but got: 2026-01-01T00:00:00.000Z (now is 2026-06-01T12:00:00.000Z)',
    );
    expect(refusal(aLine({ set: { ...SET, expiresAt: 'soon' } }))).toMatch(/^set: DateTime must be an ISO-8601 string with an offset/);
  });

  it('refuses a missing, malformed or future actor and time', () => {
    expect(refusal(aLine({ actor: undefined }))).toMatch(/^actor must be a non-blank string of at most 128 characters/);
    expect(refusal(aLine({ actor: ' ' }))).toMatch(/^actor must be a non-blank string/);
    expect(refusal(aLine({ at: undefined }))).toBe('at is required: the ISO-8601 time the choice was made');
    expect(refusal(aLine({ at: '2025-03-01' }))).toMatch(/^at: DateTime must be an ISO-8601 string with an offset/);
    expect(refusal(aLine({ at: '2026-06-01T12:00:01Z' }))).toMatch(/^at must not be later than the import \(2026-06-01T12:00:00.000Z\)/);
  });

  it('refuses a source too long to carry the evidence with it, saying how long it may be', () => {
    expect(refusal(aLine({ set: { ...SET, source: 'x'.repeat(190) } }))).toBe(
      'set.source is too long to carry the import evidence: with this actor it may have at most 133 characters, but has 190',
    );
    expect(parseImportLine(aLine({ set: { ...SET, source: 'x'.repeat(133) } }), NOW).change).toMatchObject({ kind: 'SET' });
    expect(refusal(aLine({ set: { ...SET, source: 'x'.repeat(134) } }))).toMatch(/at most 133 characters, but has 134$/);
  });
});
