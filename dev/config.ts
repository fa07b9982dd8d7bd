import { boolVar } from '../src/config.js';
import { embeddedDataDir } from './embedded/startFerretdb.js';

/** What `npm start` adds to the service's configuration: the embedded database and the demo data. */
export interface DevConfig {
  /** The embedded FerretDB's data directory (FERRETDB_DATA_DIR); used only when MONGODB_URI is unset. */
  readonly ferretdbDataDir: string;
  /** Seed the demo consent data at start-up (SEED_DEMO); on by default with the embedded database only. */
  readonly seedDemo: boolean;
}

/** Reads the harness's own variables from `env` (defaults to `process.env`). */
export function loadDevConfig(env: NodeJS.ProcessEnv = process.env): DevConfig {
  const embedded = !env.MONGODB_URI;
  return Object.freeze({ ferretdbDataDir: embeddedDataDir(env), seedDemo: boolVar(env, 'SEED_DEMO', embedded) });
}
