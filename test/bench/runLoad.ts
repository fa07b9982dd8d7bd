import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadRequest, LoadResult } from './loadGenerator.js';

/** Runs one autocannon load (loadGenerator.ts) in a child process, so it never shares the server's event loop. */
export function runLoad(request: LoadRequest): Promise<LoadResult> {
  return runChild<LoadResult>('./loadGenerator.ts', request);
}

/**
 * Forks one of the bench's child scripts (next to this file) under tsx, sends it `request` and
 * resolves to the `result` of its one reply; `control` may send it more messages while it runs.
 */
export function runChild<T>(script: string, request: unknown, control?: (send: (message: unknown) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL(script, import.meta.url)), { execArgv: ['--import', 'tsx'], serialization: 'advanced' });
    child.once('message', (message: { result?: T; error?: string }) => (message.result ? resolve(message.result) : reject(new Error(message.error))));
    child.once('exit', (code) => code !== 0 && reject(new Error(`${script} exited with ${code}`)));
    child.send(request as object);
    control?.((message) => child.connected && child.send(message as object));
  });
}
