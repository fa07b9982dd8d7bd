import { resolve } from 'node:path';

/** Where consent data lives: an external MongoDB-wire server, or an embedded FerretDB the service starts. */
export type DatabaseConfig =
  | { readonly kind: 'external'; readonly uri: string; readonly dbName: string }
  | { readonly kind: 'embedded'; readonly dataDir: string; readonly dbName: string };

/** How bearer tokens are verified; `ephemeral` is development only (a secret made at start-up). */
export type AuthConfig =
  | { readonly kind: 'secret'; readonly secret: string; readonly issuer?: string; readonly audience?: string }
  | { readonly kind: 'jwks'; readonly jwksUrl: string; readonly issuer?: string; readonly audience?: string }
  | { readonly kind: 'ephemeral' };

/** The service's whole configuration, read once from the environment, validated and frozen. */
export interface Config {
  readonly env: 'production' | 'development' | 'test';
  readonly host: string;
  readonly port: number;
  readonly database: DatabaseConfig;
  /** Deadline for one database operation, including server selection (ms). */
  readonly dbTimeoutMs: number;
  readonly auth: AuthConfig;
  /** Most `_entities` representations one request may carry. */
  readonly maxRepresentations: number;
  /** Seed demo artists and tracks at start-up (embedded database only, by default). */
  readonly seedDemo: boolean;
  readonly logLevel: string;
}

/** A configuration value is missing or malformed; the message names the variable and the value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration from `env` (defaults to `process.env`). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const nodeEnv = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const dbName = env.MONGODB_DB ?? 'consent';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(dbName)) throw new ConfigError(`MONGODB_DB must be a plain database name, but got: ${JSON.stringify(dbName)}`);
  const database: DatabaseConfig = env.MONGODB_URI
    ? { kind: 'external', uri: env.MONGODB_URI, dbName }
    : { kind: 'embedded', dataDir: resolve(env.FERRETDB_DATA_DIR ?? '.data/ferretdb'), dbName };

  const issuer = env.AUTH_ISSUER || undefined;
  const audience = env.AUTH_AUDIENCE || undefined;
  let auth: AuthConfig;
  if (env.AUTH_JWT_SECRET && env.AUTH_JWKS_URL) {
    throw new ConfigError('Set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both.');
  } else if (env.AUTH_JWT_SECRET) {
    if (env.AUTH_JWT_SECRET.length < 32) throw new ConfigError('AUTH_JWT_SECRET must be at least 32 characters (HS256 wants 256 bits).');
    auth = { kind: 'secret', secret: env.AUTH_JWT_SECRET, issuer, audience };
  } else if (env.AUTH_JWKS_URL) {
    if (!/^https?:\/\//.test(env.AUTH_JWKS_URL)) throw new ConfigError(`AUTH_JWKS_URL must be an http(s) URL, but got: ${JSON.stringify(env.AUTH_JWKS_URL)}`);
    auth = { kind: 'jwks', jwksUrl: env.AUTH_JWKS_URL, issuer, audience };
  } else if (nodeEnv === 'production') {
    throw new ConfigError('NODE_ENV=production needs AUTH_JWT_SECRET or AUTH_JWKS_URL: refusing to start without token verification keys.');
  } else {
    auth = { kind: 'ephemeral' };
  }

  return Object.freeze({
    env: nodeEnv,
    host: env.HOST ?? '127.0.0.1',
    port: intVar(env, 'PORT', 4001, 0, 65535),
    database: Object.freeze(database),
    dbTimeoutMs: intVar(env, 'DB_TIMEOUT_MS', 2000, 100, 60000),
    auth: Object.freeze(auth),
    maxRepresentations: intVar(env, 'MAX_REPRESENTATIONS', 1000, 1, 100000),
    seedDemo: boolVar(env, 'SEED_DEMO', database.kind === 'embedded'),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
  });
}

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, but got: ${JSON.stringify(raw)}`);
  }
  return value;
}

function boolVar(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, but got: ${JSON.stringify(raw)}`);
}
