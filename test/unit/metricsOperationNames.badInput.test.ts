import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('METRICS_OPERATION_NAMES', () => {
  it('defaults to no names and reads a comma-separated list, trimmed and without duplicates', () => {
    expect(loadConfig({}).metricsOperationNames).toEqual([]);
    expect(loadConfig({ METRICS_OPERATION_NAMES: ' A, B_2 ,,A ' }).metricsOperationNames).toEqual(['A', 'B_2']);
  });

  it('refuses a name no operation can have, quoting it', () => {
    expect(() => loadConfig({ METRICS_OPERATION_NAMES: 'Good,not-a-name' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_OPERATION_NAMES: 'Good,not-a-name' })).toThrow(/METRICS_OPERATION_NAMES.*"not-a-name"/);
    expect(() => loadConfig({ METRICS_OPERATION_NAMES: `A${'x'.repeat(64)}` })).toThrow(/METRICS_OPERATION_NAMES/);
  });

  it('refuses more than 1000 names', () => {
    const names = Array.from({ length: 1001 }, (_, i) => `Op${i}`).join(',');
    expect(() => loadConfig({ METRICS_OPERATION_NAMES: names })).toThrow(/at most 1000/);
  });
});
