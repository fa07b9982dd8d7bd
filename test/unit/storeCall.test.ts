import { MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { storeCall } from '../../src/store/storeCall.js';

function socketError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('storeCall', () => {
  it('turns the driver failures and Node socket errors the driver passes on into StoreUnavailableError', async () => {
    const failures = [
      new MongoNetworkError('connection 5 to 127.0.0.1:27017 closed'),
      // What a command written to a connection the server had just ended threw, as it came out of the driver.
      socketError('EPIPE', 'This socket has been ended by the other party'),
      socketError('ECONNRESET', 'read ECONNRESET'),
      socketError('ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed'),
    ];
    for (const failure of failures) {
      const error = await storeCall(() => Promise.reject(failure)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).cause).toBe(failure);
    }
  });

  it('passes on duplicate keys (how writers learn they lost a race) and errors of its own code', async () => {
    const duplicate = new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key error' });
    const bug = new TypeError("Cannot read properties of undefined (reading 'seq')");
    const unknownCode = socketError('ERR_INVALID_ARG_TYPE', 'The "chunk" argument must be of type string');
    for (const failure of [duplicate, bug, unknownCode]) {
      await expect(storeCall(() => Promise.reject(failure))).rejects.toBe(failure);
    }
  });

  it('fails with StoreUnavailableError at its deadline when the call has not answered', async () => {
    const started = performance.now();
    const error = await storeCall(() => new Promise(() => {}), 50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
