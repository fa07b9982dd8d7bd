/**
 * Milliseconds on CLOCK_MONOTONIC (libuv's hrtime): the same clock in every process on this machine,
 * so the push bench and its forked subscriber and appender processes compare readings directly.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
