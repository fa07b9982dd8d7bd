import { MongoError, MongoServerError } from 'mongodb';
import { StoreUnavailableError } from '../errors.js';

/**
 * Runs a database call, turning driver failures (down, timed out, not primary, a socket that
 * ended under it) into StoreUnavailableError; with `deadlineMs`, also fails with it once the
 * deadline passes (the call itself then ends on the driver's own timeouts, unobserved).
 * Duplicate-key errors pass through: they are how writers learn they lost a race.
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
    if ((error instanceof MongoError && !isDuplicateKey(error)) || isSocketError(error)) throw new StoreUnavailableError({ cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

// Node's own socket errors. The driver passes some on as they are: a command written to a
// connection the server has just ended fails with Node's EPIPE ("This socket has been ended by the
// other party"), seen behind a link whose connections were dropped.
const SOCKET_ERROR_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'ERR_STREAM_DESTROYED', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_WRITE_AFTER_END']);

/** Whether `error` is a failure of the network connection itself (Node's socket errors). */
function isSocketError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && SOCKET_ERROR_CODES.has((error as NodeJS.ErrnoException).code!);
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
