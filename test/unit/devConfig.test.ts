import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDevConfig } from '../../dev/config.js';

describe('loadDevConfig (npm start)', () => {
  it('keeps the embedded database in .data/ferretdb and seeds the demo data when MONGODB_URI is unset', () => {
    expect(loadDevConfig({})).toEqual({ ferretdbDataDir: resolve('.data/ferretdb'), seedDemo: true });
  });

  it('seeds nothing by default on a database given by MONGODB_URI, unless SEED_DEMO=true', () => {
    expect(loadDevConfig({ MONGODB_URI: 'mongodb://db.internal:27017/' }).seedDemo).toBe(false);
    expect(loadDevConfig({ MONGODB_URI: 'mongodb://db.internal:27017/', SEED_DEMO: 'true' }).seedDemo).toBe(true);
    expect(loadDevConfig({ SEED_DEMO: 'false' }).seedDemo).toBe(false);
  });

  it('puts the embedded database where FERRETDB_DATA_DIR says', () => {
    expect(loadDevConfig({ FERRETDB_DATA_DIR: '/tmp/consent-data' }).ferretdbDataDir).toBe('/tmp/consent-data');
  });
});
