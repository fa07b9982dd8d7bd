import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The production entry never starts a database of its own: without MONGODB_URI it says what to do.

describe('src/main.ts started without MONGODB_URI', () => {
  it('stops with exit code 78 and one line naming MONGODB_URI and `npm start`, before opening anything', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, MONGODB_URI: '', NODE_ENV: 'development', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(78);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('Configuration error: MONGODB_URI is not set: run `npm start` for the embedded database, or set it.\n');
  });
});
