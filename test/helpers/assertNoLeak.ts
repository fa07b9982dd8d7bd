import { expect } from 'vitest';

/**
 * What must never reach a client: driver and database names and messages, collection names,
 * socket errors, stack frames.
 */
export const LEAK_PATTERN = /mongo|ferret|sqlite|consent_events|consent_state|E11000|ECONNREFUSED|ECONNRESET|ETIMEDOUT|topology|server selection|\bat \S+ \(|\.ts:\d+|\.js:\d+|stacktrace/i;

/** Fails the test if a response body (parsed or raw) carries anything matching LEAK_PATTERN. */
export function assertNoLeak(body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  expect(text, 'a response leaked internals').not.toMatch(LEAK_PATTERN);
}
