import { describe, expect, it } from 'vitest';
import { loadDevConfig } from '../../dev/config.js';
import { ConfigError } from '../../src/config.js';

describe('loadDevConfig given bad configuration', () => {
  it('refuses a SEED_DEMO that is neither true nor false, naming the variable', () => {
    expect(() => loadDevConfig({ SEED_DEMO: 'yes' })).toThrow(ConfigError);
    expect(() => loadDevConfig({ SEED_DEMO: 'yes' })).toThrow(/SEED_DEMO must be true or false, but got: "yes"/);
  });
});
