import type { JWK } from 'jose';
import { REQUEST_LIMITS } from './limits.js';

/** Where consent data lives: a MongoDB-wire server (MONGODB_URI, null when unset) and the database name (MONGODB_DB). */
export interface DatabaseConfig {
  readonly uri: string | null;
  readonly dbName: string;
}

/** How bearer tokens are timed (seconds): longest declared lifetime (AUTH_MAX_TOKEN_AGE) and clock skew (AUTH_CLOCK_SKEW). */
export interface TokenTiming {
  readonly maxTokenAge: number;
  readonly clockSkew: number;
}

/** How bearer tokens are verified; `ephemeral` is development only (a secret made at start-up). */
export type AuthConfig =
  | ({ readonly kind: 'secret'; readonly secret: string; readonly issuer?: string; readonly audience?: string } & TokenTiming)
  | ({ readonly kind: 'jwks'; readonly jwksUrl: string; readonly issuer?: string; readonly audience?: string } & TokenTiming)
  | ({ readonly kind: 'ephemeral' } & TokenTiming);

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
  /** Largest demand-control cost of one operation (`@cost`/`@listSize`); the gateway uses the same. */
  readonly maxCost: number;
  /** Largest response body, in bytes; a larger answer is refused with RESPONSE_TOO_LARGE. */
  readonly maxResponseBytes: number;
  readonly logLevel: string;
  /** Answer `__schema`/`__type` introspection (off in production by default; `_service { sdl }` always works). */
  readonly introspection: boolean;
  /** How GraphQL operations are executed: compiled by graphql-jit, or interpreted by graphql-js. */
  readonly executor: 'jit' | 'graphql-js';
  /** Largest projection the in-memory cache holds (documents); 0 turns the cache off. */
  readonly cacheMaxSubjects: number;
  /** Longest a group commit waits to gather a stream of changes (ms); 0 never waits (see LedgerWriter). */
  readonly writeGatherMs: number;
  /** Time between projection repair sweeps (ms). */
  readonly repairIntervalMs: number;
  /** How long shutdown lets in-flight requests finish before cutting them (ms). */
  readonly drainTimeoutMs: number;
  /** OpenTelemetry tracing: null when off (the default; nothing is recorded or sent). */
  readonly tracing: TracingConfig | null;
  /** Secret shared with the gateway for its HMAC signature of upstream requests; null when unset. */
  readonly gatewaySignatureSecret: string | null;
  /** Refuse every GraphQL request without a valid gateway signature (UNAUTHENTICATED); on by default in production. */
  readonly requireGatewaySignature: boolean;
  /** Port of the separate `/metrics` server (same host); null serves `/metrics` on the service port (development default). */
  readonly metricsPort: number | null;
  /** Serve the GraphiQL playground on GET with Accept: text/html (off in production by default). */
  readonly landingPage: boolean;
  /** Operation names that always get their own label in the request metrics (METRICS_OPERATION_NAMES, comma-separated). */
  readonly metricsOperationNames: readonly string[];
  /** Keys of signed training-set attestations; `privateJwk` null means an ephemeral key (development and test only). */
  readonly attestation: AttestationConfig;
}

/** ATTESTATION_PRIVATE_JWK (an Ed25519 private JWK with `kid`) and ATTESTATION_RETIRED_JWKS (public JWKs still served for verification). */
export interface AttestationConfig {
  readonly privateJwk: JWK | null;
  readonly retiredJwks: readonly JWK[];
}

/** Where spans are exported (OTLP over HTTP) and the service name they carry. */
export interface TracingConfig {
  readonly endpoint: string;
  readonly serviceName: string;
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
  // Unset is not an error here: the production entry refuses it, the local harness starts a database.
  const database: DatabaseConfig = { uri: env.MONGODB_URI || null, dbName };

  const auth = authOf(env, nodeEnv);
  const gatewaySignatureSecret = gatewaySignatureSecretOf(env);
  const requireGatewaySignature = boolVar(env, 'REQUIRE_GATEWAY_SIGNATURE', nodeEnv === 'production');
  if (requireGatewaySignature && gatewaySignatureSecret === null) {
    throw new ConfigError(
      env.REQUIRE_GATEWAY_SIGNATURE
        ? 'REQUIRE_GATEWAY_SIGNATURE=true needs GATEWAY_SIGNATURE_SECRET (the secret the gateway signs with).'
        : 'NODE_ENV=production requires gateway signatures: set GATEWAY_SIGNATURE_SECRET (the secret the gateway signs with), or REQUIRE_GATEWAY_SIGNATURE=false to accept unsigned requests.',
    );
  }
  const port = intVar(env, 'PORT', 4001, 0, 65535);
  // In production /metrics never shares the service port: it would be as reachable as the API.
  const metricsPort = env.METRICS_PORT ? intVar(env, 'METRICS_PORT', 9464, 0, 65535) : nodeEnv === 'production' ? 9464 : null;
  if (metricsPort !== null && metricsPort !== 0 && metricsPort === port) {
    throw new ConfigError(`METRICS_PORT must differ from PORT (${port}): /metrics is served on its own port, but got: ${JSON.stringify(env.METRICS_PORT ?? String(metricsPort))}`);
  }

  return Object.freeze({
    env: nodeEnv,
    host: env.HOST ?? '127.0.0.1',
    port,
    database: Object.freeze(database),
    dbTimeoutMs: intVar(env, 'DB_TIMEOUT_MS', 2000, 100, 60000),
    auth: Object.freeze(auth),
    maxRepresentations: intVar(env, 'MAX_REPRESENTATIONS', REQUEST_LIMITS.maxRepresentations, 1, 100000),
    maxCost: maxCostOf(env),
    maxResponseBytes: intVar(env, 'MAX_RESPONSE_BYTES', 16 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
    logLevel: env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info'),
    introspection: boolVar(env, 'GRAPHQL_INTROSPECTION', nodeEnv !== 'production'),
    executor: oneOf(env, 'GRAPHQL_EXECUTOR', ['jit', 'graphql-js'] as const, 'jit'),
    cacheMaxSubjects: intVar(env, 'CACHE_MAX_SUBJECTS', 250_000, 0, 10_000_000),
    // LedgerWriter's DEFAULT_GATHER.windowMs (not imported: the gateway reads this module and stays clear of src/store/).
    writeGatherMs: intVar(env, 'WRITE_GATHER_MS', 100, 0, 1000),
    repairIntervalMs: intVar(env, 'REPAIR_INTERVAL_MS', 5000, 100, 3_600_000),
    drainTimeoutMs: intVar(env, 'DRAIN_TIMEOUT_MS', 10_000, 0, 600_000),
    tracing: tracingOf(env),
    gatewaySignatureSecret,
    requireGatewaySignature,
    metricsPort,
    landingPage: boolVar(env, 'LANDING_PAGE', nodeEnv !== 'production'),
    metricsOperationNames: operationNamesOf(env),
    attestation: attestationOf(env, nodeEnv),
  });
}

// Issuer and audience are checked whenever set; production requires both, so a token minted by
// another issuer or for another service sharing the keys is refused.
/** Reads AUTH_* (keys, issuer, audience, token timing); shared with the gateway's configuration. */
export function authOf(env: NodeJS.ProcessEnv, nodeEnv: Config['env']): AuthConfig {
  const issuer = env.AUTH_ISSUER || undefined;
  const audience = env.AUTH_AUDIENCE || undefined;
  const timing: TokenTiming = {
    maxTokenAge: intVar(env, 'AUTH_MAX_TOKEN_AGE', 86_400, 1, 31_536_000),
    clockSkew: intVar(env, 'AUTH_CLOCK_SKEW', 30, 0, 300),
  };
  let auth: AuthConfig;
  if (env.AUTH_JWT_SECRET && env.AUTH_JWKS_URL) {
    throw new ConfigError('Set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both.');
  } else if (env.AUTH_JWT_SECRET) {
    if (env.AUTH_JWT_SECRET.length < 32) throw new ConfigError('AUTH_JWT_SECRET must be at least 32 characters (HS256 wants 256 bits).');
    auth = { kind: 'secret', secret: env.AUTH_JWT_SECRET, issuer, audience, ...timing };
  } else if (env.AUTH_JWKS_URL) {
    if (!/^https?:\/\//.test(env.AUTH_JWKS_URL)) throw new ConfigError(`AUTH_JWKS_URL must be an http(s) URL, but got: ${JSON.stringify(env.AUTH_JWKS_URL)}`);
    auth = { kind: 'jwks', jwksUrl: env.AUTH_JWKS_URL, issuer, audience, ...timing };
  } else if (nodeEnv === 'production') {
    throw new ConfigError('NODE_ENV=production needs AUTH_JWT_SECRET or AUTH_JWKS_URL: refusing to start without token verification keys.');
  } else {
    auth = { kind: 'ephemeral', ...timing };
  }
  if (nodeEnv === 'production' && issuer === undefined) {
    throw new ConfigError('NODE_ENV=production needs AUTH_ISSUER: the "iss" claim every token must carry.');
  }
  if (nodeEnv === 'production' && audience === undefined) {
    throw new ConfigError('NODE_ENV=production needs AUTH_AUDIENCE: the "aud" claim every token must carry.');
  }
  return auth;
}

// One budget for gateway and subgraph: each refuses what the other would.
/** Reads MAX_COST, the demand-control budget the subgraph and the gateway share. */
export function maxCostOf(env: NodeJS.ProcessEnv): number {
  return intVar(env, 'MAX_COST', 50_000, 100, 10_000_000);
}

/** Reads GATEWAY_SIGNATURE_SECRET (at least 32 characters), or null when unset. */
export function gatewaySignatureSecretOf(env: NodeJS.ProcessEnv): string | null {
  const secret = env.GATEWAY_SIGNATURE_SECRET || null;
  if (secret !== null && secret.length < 32) throw new ConfigError('GATEWAY_SIGNATURE_SECRET must be at least 32 characters.');
  return secret;
}

/** Reads an http(s) URL variable, or `fallback` when unset. */
export function urlVar(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new ConfigError(`${name} must be an http(s) URL, but got: ${JSON.stringify(raw)}`);
  return raw;
}

// Tracing is on when an OTLP endpoint is configured, or when TRACING_ENABLED=true (then the OTLP
// default http://localhost:4318 applies); TRACING_ENABLED=false turns it off either way.
function tracingOf(env: NodeJS.ProcessEnv): TracingConfig | null {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint)) {
    throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, but got: ${JSON.stringify(endpoint)}`);
  }
  if (!boolVar(env, 'TRACING_ENABLED', endpoint !== undefined)) return null;
  const serviceName = env.OTEL_SERVICE_NAME || 'consent-subgraph';
  return Object.freeze({ endpoint: endpoint ?? 'http://localhost:4318', serviceName });
}

/** Reads an integer variable within [min, max], or `fallback` when unset. */
export function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, but got: ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads a true/false (or 1/0) variable, or `fallback` when unset. */
export function boolVar(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, but got: ${JSON.stringify(raw)}`);
}

function oneOf<const T extends readonly string[]>(env: NodeJS.ProcessEnv, name: string, values: T, fallback: T[number]): T[number] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if ((values as readonly string[]).includes(raw)) return raw as T[number];
  throw new ConfigError(`${name} must be ${values.join(' or ')}, but got: ${JSON.stringify(raw)}`);
}

// METRICS_OPERATION_NAMES: the operation names a deployment's clients send, comma-separated; each
// must be a name a metric label can carry (as src/observability/operationLabels.ts checks).
function operationNamesOf(env: NodeJS.ProcessEnv): readonly string[] {
  const names = (env.METRICS_OPERATION_NAMES ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const bad = names.find((name) => !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name));
  if (bad !== undefined) throw new ConfigError(`METRICS_OPERATION_NAMES must list GraphQL operation names (letters, digits, _; at most 64), but got: ${JSON.stringify(bad)}`);
  if (names.length > 1000) throw new ConfigError(`METRICS_OPERATION_NAMES may list at most 1000 names, but got ${names.length}.`);
  return Object.freeze([...new Set(names)]);
}

// A signed attestation is evidence only if its key outlives the process: production refuses to
// start with an ephemeral one, whose attestations nobody could verify after a restart.
function attestationOf(env: NodeJS.ProcessEnv, nodeEnv: Config['env']): AttestationConfig {
  const raw = env.ATTESTATION_PRIVATE_JWK || undefined;
  let privateJwk: JWK | null = null;
  if (raw !== undefined) {
    const jwk = jsonVar(raw, 'ATTESTATION_PRIVATE_JWK', false);
    if (!isEd25519(jwk) || typeof jwk.d !== 'string' || typeof jwk.kid !== 'string' || jwk.kid === '') {
      throw new ConfigError('ATTESTATION_PRIVATE_JWK must be an Ed25519 private JWK ({"kty":"OKP","crv":"Ed25519","x":…,"d":…,"kid":…}) with a non-empty kid, but got another JSON value (not shown: it may hold a secret).');
    }
    privateJwk = Object.freeze({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d, kid: jwk.kid });
  } else if (nodeEnv === 'production') {
    throw new ConfigError('NODE_ENV=production needs ATTESTATION_PRIVATE_JWK (an Ed25519 private JWK with kid): attestations signed with a key made at start-up could not be verified after a restart.');
  }
  const retiredRaw = env.ATTESTATION_RETIRED_JWKS || undefined;
  const retired = retiredRaw === undefined ? [] : jsonVar(retiredRaw, 'ATTESTATION_RETIRED_JWKS', true);
  if (!Array.isArray(retired)) throw new ConfigError(`ATTESTATION_RETIRED_JWKS must be a JSON array of Ed25519 public JWKs, but got: ${JSON.stringify(retiredRaw).slice(0, 80)}`);
  const retiredJwks = retired.map((jwk: unknown, i) => {
    if (!isEd25519(jwk) || typeof jwk.kid !== 'string' || jwk.kid === '' || 'd' in jwk) {
      throw new ConfigError(`ATTESTATION_RETIRED_JWKS[${i}] must be an Ed25519 public JWK with a kid and no private "d", but got: ${'d' in Object(jwk) ? 'a private key (not shown)' : JSON.stringify(jwk).slice(0, 80)}`);
    }
    return Object.freeze({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid });
  });
  return Object.freeze({ privateJwk, retiredJwks: Object.freeze(retiredJwks) });
}

function isEd25519(value: unknown): value is JWK & { x: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const jwk = value as JWK;
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string' && jwk.x !== '';
}

// Parses a JSON variable; a private key's text is never quoted back.
function jsonVar(raw: string, name: string, quote: boolean): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} must be JSON, but got: ${quote ? JSON.stringify(raw.slice(0, 80)) : 'text that is not JSON (not shown: it may hold a secret)'}`);
  }
}
