import { authOf, boolVar, ConfigError, gatewaySignatureSecretOf, intVar, maxCostOf, urlVar, type AuthConfig } from '../src/config.js';

/** The gateway's configuration (gateway/main.ts): where the subgraphs and their SDL files are, and how tokens are checked. */
export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  /** Same key configuration as the subgraph; the gateway has no ephemeral mode. */
  readonly auth: Exclude<AuthConfig, { kind: 'ephemeral' }>;
  readonly consentUrl: string;
  readonly catalogUrl: string;
  /** The consent subgraph's SDL file (CONSENT_SDL_FILE), composed as shipped: the gateway never asks a subgraph for it. */
  readonly consentSdlFile: string;
  /** The catalog subgraph's SDL file (CATALOG_SDL_FILE). */
  readonly catalogSdlFile: string;
  /** Signs every upstream request when set (Hive Gateway's HMAC signature). */
  readonly gatewaySignatureSecret: string | null;
  readonly landingPage: boolean;
  /** Largest demand-control cost of one operation (MAX_COST, the subgraph's budget too). */
  readonly maxCost: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Reads the gateway's configuration: AUTH_* as for the subgraph, CONSENT_URL, CATALOG_URL, the SDL files, PORT (4000). */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const nodeEnv = env.NODE_ENV === 'production' ? 'production' : 'development';
  const auth = authOf(env, nodeEnv);
  if (auth.kind === 'ephemeral') throw new ConfigError('The gateway needs AUTH_JWT_SECRET or AUTH_JWKS_URL (the same keys as the consent subgraph).');
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be debug, info, warn or error for the gateway, but got: ${JSON.stringify(logLevel)}`);
  }
  return Object.freeze({
    host: env.HOST ?? '127.0.0.1',
    port: intVar(env, 'PORT', 4000, 0, 65535),
    auth: Object.freeze(auth),
    consentUrl: urlVar(env, 'CONSENT_URL', 'http://127.0.0.1:4001/graphql'),
    catalogUrl: urlVar(env, 'CATALOG_URL', 'http://127.0.0.1:4002/'),
    consentSdlFile: env.CONSENT_SDL_FILE || 'schema/consent.graphql',
    catalogSdlFile: env.CATALOG_SDL_FILE || 'schema/catalog.graphql',
    gatewaySignatureSecret: gatewaySignatureSecretOf(env),
    landingPage: boolVar(env, 'LANDING_PAGE', nodeEnv !== 'production'),
    maxCost: maxCostOf(env),
    logLevel: logLevel as GatewayConfig['logLevel'],
  });
}
