import { MongoError, MongoServerError } from 'mongodb';
import { StoreUnavailableError } from '../errors.js';

/**
 * Runs a database call, turning driver failures (down, timed out, not primary) into
 * StoreUnavailableError; with `deadlineMs`, also fails with it once the deadline passes (the call
 * itself then ends on the driver's own timeouts, unobserved). Duplicate-key errors pass through:
 * they are how writers learn they lost a race.
 */
export async function storeCall<T>(call: () => Promise<T>, deadlineMs?: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (deadlineMs === undefined) return await call();
    const pending = call();
    pending.catch(() => {});
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError()), deadlineMs);
    });
    return await Promise.race([pending, expired]);
  } catch (error) {
    if (error instanceof MongoError && !isDuplicateKey(error)) throw new StoreUnavailableError({ cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a write failed on a unique index (another writer got there first). */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}
