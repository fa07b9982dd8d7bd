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

interface WriteErrorLike {
  readonly code?: number;
  readonly index: number;
}

/** The write errors of a bulk write's error (one or a list, as the driver gives them). */
export function writeErrorsOf(error: unknown): WriteErrorLike[] {
  const writeErrors = (error as { writeErrors?: WriteErrorLike[] | WriteErrorLike }).writeErrors;
  return Array.isArray(writeErrors) ? writeErrors : writeErrors === undefined ? [] : [writeErrors];
}

/** Whether a bulk insert failed only on unique indexes (documents already there). */
export function hasOnlyDuplicateKeys(error: unknown): boolean {
  const list = writeErrorsOf(error);
  return list.length > 0 && list.every((e) => e.code === 11000);
}

/** The indexes of the documents a bulk insert did not insert. */
export function failedIndexes(error: unknown): number[] {
  return writeErrorsOf(error).map((e) => e.index);
}
