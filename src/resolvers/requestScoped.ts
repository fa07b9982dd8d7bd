import type { Loaders } from '../context.js';

const scoped = new WeakMap<Loaders, Map<string, unknown>>();

/**
 * The value stored under `key` for the request that owns `loaders`, made by `make` on first use.
 * Lets a resolver add its own loaders beside the request's, so they live and die with the request.
 */
export function requestScoped<T>(loaders: Loaders, key: string, make: () => T): T {
  let values = scoped.get(loaders);
  if (values === undefined) {
    values = new Map();
    scoped.set(loaders, values);
  }
  if (!values.has(key)) values.set(key, make());
  return values.get(key) as T;
}
