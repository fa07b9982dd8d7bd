import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../errors.js';

/**
 * The request extension Hive Gateway's `hmacSignature` writes the signature into (its default name,
 * set explicitly on both sides so a library default changing can't silently break the check).
 */
export const GATEWAY_SIGNATURE_EXTENSION = 'hmac-signature';

/** The GraphQL-over-HTTP parameters a signature covers or carries. */
export interface SignedParams {
  readonly query?: unknown;
  readonly variables?: unknown;
  readonly extensions?: unknown;
}

/**
 * Signs `query` and `variables` exactly as Hive Gateway's `useHmacUpstreamSignature` does:
 * base64 HMAC-SHA256 over the key-sorted JSON of `{ query, variables }`, with `variables` left out
 * when empty. Used by tests (and tools) to produce what the gateway would send.
 */
export function signGatewayRequest(secret: string, params: Pick<SignedParams, 'query' | 'variables'>): string {
  return createHmac('sha256', secret).update(signedPayload(params)).digest('base64');
}

/**
 * Throws AuthenticationError (UNAUTHENTICATED) unless `params` carries a valid gateway signature
 * in `extensions["hmac-signature"]`. The signature proves the operation text and variables were
 * sent by something holding the secret; it does not cover headers or time, so the subgraph still
 * verifies the bearer token itself.
 */
export function verifyGatewaySignature(secret: string, params: SignedParams | undefined): void {
  const signature = isRecord(params?.extensions) ? params.extensions[GATEWAY_SIGNATURE_EXTENSION] : undefined;
  if (typeof signature !== 'string' || signature === '') {
    throw new AuthenticationError('This subgraph only accepts requests signed by the gateway; send your operation through the gateway.');
  }
  const expected = Buffer.from(signGatewayRequest(secret, { query: params?.query, variables: params?.variables }));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AuthenticationError('The gateway signature does not match this request; send your operation through the gateway.');
  }
}

// What the gateway signs (its `defaultExecutionRequestSerializer` = the validator's `defaultParamsSerializer`).
function signedPayload({ query, variables }: Pick<SignedParams, 'query' | 'variables'>): string {
  const hasVariables = isRecord(variables) && Object.keys(variables).length > 0;
  return stableJson(hasVariables ? { query, variables } : { query });
}

// JSON with object keys sorted and undefined members dropped, as the `json-stable-stringify` package writes it.
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : stableJson(item))).join(',')}]`;
  if (!isRecord(value)) return JSON.stringify(value) ?? 'null';
  const members = Object.keys(value)
    .sort()
    .filter((key) => value[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${stableJson(value[key])}`);
  return `{${members.join(',')}}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The parameters of a GraphQL-over-HTTP request: the JSON body of a POST, or the `query`,
 * `variables` and `extensions` search parameters of a GET. Undefined when there are none to check
 * (a batch array, malformed JSON in a parameter), which verification then refuses.
 */
export function signedParamsOf(method: string | undefined, search: URLSearchParams, body: unknown): SignedParams | undefined {
  if (method !== 'GET') return isRecord(body) ? body : undefined;
  try {
    const json = (name: string) => {
      const raw = search.get(name);
      return raw === null ? undefined : (JSON.parse(raw) as unknown);
    };
    return { query: search.get('query') ?? undefined, variables: json('variables'), extensions: json('extensions') };
  } catch {
    return undefined;
  }
}
