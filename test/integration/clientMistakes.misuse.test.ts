import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger } from '../helpers/capturedLogger.js';
import { postGraphQL, startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

// pino's numeric levels: 40 warn, 50 error, 60 fatal.
const ERROR_LEVEL = 50;

// Sends a POST that declares `declared` bytes, writes half of them, then destroys the socket.
function abortedUpload(url: string, declared: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(declared) } });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(`{"query":"${'x'.repeat(declared / 2 - 10)}`, () => setTimeout(() => req.destroy(), 50));
  });
}

// Waits until a request's access-log line, written when its response closes, is in `logged`.
async function accessLogged(logged: () => Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < 100 && !logged().some((l) => l.msg === 'request'); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('client mistakes are client errors, logged below error level', () => {
  let running: TestSubgraph;
  let lines: Array<Record<string, unknown>>;
  let reader: string;

  beforeAll(async () => {
    const captured = capturedLogger();
    lines = captured.lines;
    running = await startTestSubgraph({ logger: captured.logger });
    reader = await readToken();
  });
  afterAll(async () => {
    await running?.stop();
  });

  const errorLines = () => lines.filter((l) => (l.level as number) >= ERROR_LEVEL);

  it('answers a subscription sent over HTTP with 400 OPERATION_NOT_SUPPORTED pointing to the WebSocket endpoint', async () => {
    const before = lines.length;
    const res = await postGraphQL(running.url, 'subscription Watch { consentChanged { id } }', {}, reader);
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/served over WebSocket/i), extensions: { code: 'OPERATION_NOT_SUPPORTED' } })]);
    await accessLogged(() => lines.slice(before));
    expect(lines.slice(before).filter((l) => (l.level as number) >= ERROR_LEVEL)).toEqual([]);
  });

  it('answers an operationName the document does not contain with 400 OPERATION_RESOLUTION_FAILURE', async () => {
    const before = lines.length;
    const res = await postGraphQL(running.url, 'query Known { __typename }', {}, reader, { operationName: 'Unknown' });
    expect(res.status).toBe(400);
    expect(res.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('Unknown'), extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })]);
    await accessLogged(() => lines.slice(before));
    expect(lines.slice(before).filter((l) => (l.level as number) >= ERROR_LEVEL)).toEqual([]);
  });

  it('answers a document of several operations without an operationName with 400 OPERATION_RESOLUTION_FAILURE', async () => {
    const before = lines.length;
    const res = await postGraphQL(running.url, 'query A { __typename } query B { __typename }', {}, reader);
    expect(res.status).toBe(400);
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })]);
    await accessLogged(() => lines.slice(before));
    expect(lines.slice(before).filter((l) => (l.level as number) >= ERROR_LEVEL)).toEqual([]);
  });

  it('logs an upload the client aborts half-way at info level as aborted, never at error level', async () => {
    const before = lines.length;
    await abortedUpload(running.url, 4000);
    await accessLogged(() => lines.slice(before));
    const logged = lines.slice(before);
    expect(logged.filter((l) => (l.level as number) >= ERROR_LEVEL)).toEqual([]);
    expect(logged.find((l) => l.msg === 'request')).toMatchObject({ level: 30, method: 'POST', completed: false, uploadAborted: true });
    expect(logged.find((l) => l.msg === 'client aborted the request')).toMatchObject({ level: 30 });
    // The server is unharmed: the next request is answered.
    expect((await postGraphQL(running.url, '{ __typename }', {}, reader)).data).toEqual({ __typename: 'Query' });
  });

  it('logs a client that disconnects before its answer is sent below error level', async () => {
    const before = lines.length;
    const body = JSON.stringify({ query: '{ _entities(representations: [{ __typename: "Artist", id: "a-1" }]) { ... on Artist { id } } }' });
    await new Promise<void>((resolve) => {
      const req = request(running.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${reader}` } });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end(body, () => req.destroy());
    });
    await accessLogged(() => lines.slice(before));
    expect(lines.slice(before).find((l) => l.msg === 'request')).not.toHaveProperty('uploadAborted');
    expect(lines.slice(before).filter((l) => (l.level as number) >= ERROR_LEVEL)).toEqual([]);
  });

  it('has written no error-level line across all of these mistakes', () => {
    expect(errorLines()).toEqual([]);
  });
});
