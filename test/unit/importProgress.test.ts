import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProgress, formatDuration, type ProgressCounts } from '../../tools/import/createProgress.js';
import { importConsents } from '../../tools/importConsents.js';

function aStream(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { stream, text: () => chunks.join('') };
}

describe("the importer's progress", () => {
  it('prints a line with lines done, rate and time left at most every interval when not on a terminal', () => {
    const { stream, text } = aStream();
    let t = 0;
    const progress = createProgress(stream, { tty: false, intervalMs: 5000, now: () => t });
    t = 1000;
    progress.update({ done: 100, total: 1000 });
    expect(text()).toBe('');
    t = 5000;
    progress.update({ done: 500, total: 1000 });
    progress.note('line 7: the line is not JSON');
    t = 6000;
    progress.update({ done: 600, total: 1000 });
    t = 10_000;
    progress.finish({ done: 1000, total: 1000 });
    expect(text()).toBe(
      'import: 500/1,000 lines 50.0% · 100 changes/s · ETA 5 s\n' +
        'line 7: the line is not JSON\n' +
        'import: 1,000/1,000 lines 100.0% · 100 changes/s · ETA 0 s\n',
    );
  });

  it('redraws one line in place on a terminal, prints notes above it and leaves nothing behind', () => {
    const { stream, text } = aStream();
    let t = 0;
    const progress = createProgress(stream, { tty: true, now: () => t });
    t = 2000;
    progress.update({ done: 1000, total: 4000 });
    progress.note('line 9: refused');
    t = 4000;
    progress.finish({ done: 4000, total: 4000 });
    expect(text()).toBe(
      '\r\x1b[2K[########......................] 1,000/4,000 lines 25.0% · 500 changes/s · ETA 6 s' +
        '\r\x1b[2Kline 9: refused\n' +
        '\r\x1b[2K[########......................] 1,000/4,000 lines 25.0% · 500 changes/s · ETA 6 s' +
        '\r\x1b[2K',
    );
  });

  it('writes durations as seconds, m:ss or h:mm:ss', () => {
    expect([formatDuration(4.4), formatDuration(62), formatDuration(3725)]).toEqual(['4 s', '1:02', '1:02:05']);
  });

  it("shows the file's line count before the first batch is written, not 0 of 0", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'import-progress-'));
    try {
      const file = join(dir, 'three.ndjson');
      const line = (n: number) =>
        JSON.stringify({ set: { subject: { artistId: `ar-${n}` }, purpose: 'AI_TRAINING', choice: 'DENY', termsVersion: 'tos-1', idempotencyKey: `k-${n}` }, actor: 'migration:test', at: '2024-01-01T00:00:00.000Z' });
      await writeFile(file, [1, 2, 3].map(line).join('\n') + '\n');
      const seen: ProgressCounts[] = [];
      const progress = { update: (counts: ProgressCounts) => void seen.push(counts), note: () => {}, finish: (counts: ProgressCounts) => void seen.push(counts) };
      let beforeFirstWrite: ProgressCounts[] = [];
      const sink = {
        target: 'a test sink',
        write: async (lines: readonly unknown[]) => {
          if (beforeFirstWrite.length === 0) beforeFirstWrite = [...seen];
          return lines.map(() => false);
        },
        close: async () => {},
      };
      const summary = await importConsents(file, sink, { progress });
      expect(summary.written).toBe(3);
      expect(beforeFirstWrite).toEqual([{ done: 0, total: 3 }]);
      expect(seen.at(-1)).toEqual({ done: 3, total: 3 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
