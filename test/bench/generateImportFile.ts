import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import type { Purpose } from '../../src/consent/purposes.js';
import { seededRandom } from '../helpers/seededRandom.js';

/** What file to make. */
export interface ImportFileOptions {
  /** Lines to write. */
  readonly lines: number;
  /** Share of lines that are deliberately bad (broken JSON, unknown purpose, bad id, missing field), 0 to 1. @default 0 */
  readonly badRatio?: number;
  /** Same seed, same file. @default 1 */
  readonly seed?: number;
  /** The latest original time a line may carry (lines run up to it in time order). @default one hour ago */
  readonly until?: Date;
}

// Weighted choices: what artists choose most often in an opt-in campaign for AI uses, then the
// platform's own purposes.
const PURPOSES: ReadonlyArray<readonly [Purpose, number]> = [
  ['AI_TRAINING', 20],
  ['GENERATIVE_AI_TRAINING', 18],
  ['VOICE_REPLICATION', 14],
  ['MUSIC_REPLICATION', 10],
  ['LIKENESS_REPLICATION', 8],
  ['NON_GENERATIVE_AI_TRAINING', 10],
  ['AI_INFERENCE', 8],
  ['RECOMMENDATION', 6],
  ['ADVERTISING', 6],
];
const SOURCES: ReadonlyArray<readonly [string | null, number]> = [
  ['legacy-preferences-export', 40],
  ['artist-app', 25],
  ['label-portal', 15],
  [null, 20],
];
const TERMS = ['tos-2023-06', 'tos-2024-09', 'tos-2025-11'];
const BAD_KINDS = ['{"set": {"subject": {"artistId": "ar-1"}, "purpose": "AI_TRAINING"', 'purpose', 'id', 'termsVersion', 'at'] as const;

// The file covers three years of choices before `until`.
const SPAN_MS = 3 * 365 * 24 * 3600_000;
// Recent (subject, purpose) pairs a CLEAR may undo.
const RECENT = 4096;

/**
 * Writes a realistic consent import file to `out`, streaming: many artists with a heavy skew of
 * changes per artist (a few label catalogues change often, most artists once or twice), track-level
 * statements for some, mostly SETs (some DENY) and some CLEARs of earlier choices, actors that are
 * the artist, a label, support or the legacy system, original times in order (so in order per
 * subject), some explicit idempotency keys and expiries, and optionally a share of bad lines.
 * Returns how many lines were written and how many of them are bad.
 */
export async function generateImportFile(out: string, options: ImportFileOptions): Promise<{ lines: number; bad: number }> {
  const random = seededRandom(options.seed ?? 1);
  const badRatio = options.badRatio ?? 0;
  const until = (options.until ?? new Date(Date.now() - 3600_000)).getTime();
  const start = until - SPAN_MS;
  const artists = Math.max(10, Math.round(options.lines / 6));
  const recent: Array<readonly [string, string | null, Purpose]> = [];
  let recentNext = 0;
  const stream = createWriteStream(out);
  let chunk: string[] = [];
  let bad = 0;

  const pick = <T>(weighted: ReadonlyArray<readonly [T, number]>): T => {
    const total = weighted.reduce((sum, [, w]) => sum + w, 0);
    let r = random() * total;
    for (const [value, w] of weighted) if ((r -= w) < 0) return value;
    return weighted[weighted.length - 1]![0];
  };

  for (let i = 0; i < options.lines; i++) {
    // Times advance evenly with a little jitter that never reorders lines.
    const at = new Date(start + Math.floor(((i + random() * 0.9) / options.lines) * SPAN_MS)).toISOString();
    // u³ puts most lines on a few low-numbered artists (the catalogues) and one or two on the rest.
    const artist = Math.floor(artists * random() ** 3);
    const artistId = `ar-${String(artist).padStart(7, '0')}`;
    let line: string;
    if (random() < badRatio) {
      bad++;
      line = badLine(BAD_KINDS[Math.floor(random() * BAD_KINDS.length)]!, artistId, at);
    } else if (recent.length > 0 && random() < 0.08) {
      const [clearArtist, trackId, purpose] = recent[Math.floor(random() * recent.length)]!;
      const actor = random() < 0.7 ? `artist:${clearArtist}` : `support:agent-${1 + Math.floor(random() * 40)}`;
      line = JSON.stringify({ clear: { subject: subjectOf(clearArtist, trackId), purpose }, actor, at });
    } else {
      // A quarter of changes are about one track of the artist's catalogue.
      const trackId = random() < 0.25 ? `tr-${String(artist).padStart(7, '0')}-${String(Math.floor(200 * random() ** 2)).padStart(3, '0')}` : null;
      const purpose = pick(PURPOSES);
      const source = pick(SOURCES);
      const labelled = artist < artists * 0.01;
      const actor = source === 'legacy-preferences-export' ? 'migration:legacy-prefs'
        : source === 'label-portal' || (labelled && random() < 0.5) ? `label:lb-${String(artist % 97).padStart(3, '0')}`
        : random() < 0.9 ? `artist:${artistId}` : `support:agent-${1 + Math.floor(random() * 40)}`;
      const set: Record<string, unknown> = {
        subject: subjectOf(artistId, trackId),
        purpose,
        // AI uses are opt-in: an explicit choice is more often a refusal than the default suggests.
        choice: random() < (purpose === 'RECOMMENDATION' || purpose === 'ADVERTISING' ? 0.7 : 0.55) ? 'DENY' : 'ALLOW',
        termsVersion: TERMS[Math.min(TERMS.length - 1, Math.floor(((i / options.lines) * TERMS.length)))],
      };
      if (source !== null) set.source = source;
      if (random() < 0.04) set.expiresAt = new Date(until + (365 + Math.floor(random() * 730)) * 24 * 3600_000).toISOString();
      // Unique to this file (seed and size), so two generated files can share a database.
      if (source === 'legacy-preferences-export') set.idempotencyKey = `legacy-${options.seed ?? 1}-${options.lines}-${i}`;
      line = JSON.stringify({ set, actor, at });
      recent[recentNext++ % RECENT] = [artistId, trackId, purpose];
    }
    chunk.push(line);
    if (chunk.length === 1000) {
      if (!stream.write(`${chunk.join('\n')}\n`)) await once(stream, 'drain');
      chunk = [];
    }
  }
  if (chunk.length > 0) stream.write(`${chunk.join('\n')}\n`);
  stream.end();
  await once(stream, 'finish');
  return { lines: options.lines, bad };
}

function subjectOf(artistId: string, trackId: string | null): Record<string, string> {
  return trackId === null ? { artistId } : { artistId, trackId };
}

function badLine(kind: (typeof BAD_KINDS)[number], artistId: string, at: string): string {
  const set = { subject: { artistId }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-2025-11' };
  switch (kind) {
    case 'purpose':
      return JSON.stringify({ set: { ...set, purpose: 'AI_TRAINNG' }, actor: `artist:${artistId}`, at });
    case 'id':
      return JSON.stringify({ set: { ...set, subject: { artistId: `${artistId}/../x` } }, actor: `artist:${artistId}`, at });
    case 'termsVersion':
      return JSON.stringify({ set: { ...set, termsVersion: undefined }, actor: `artist:${artistId}`, at });
    case 'at':
      return JSON.stringify({ set, actor: `artist:${artistId}`, at: at.slice(0, 10) });
    default:
      return kind;
  }
}

// `npm run bench:import-file -- --lines N --out FILE [--bad-ratio R] [--seed S]`
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string): string | undefined => {
    const index = args.indexOf(name);
    return index === -1 ? undefined : args[index + 1];
  };
  const out = value('--out');
  const lines = Number(value('--lines') ?? 100_000);
  const badRatio = Number(value('--bad-ratio') ?? 0);
  const seed = Number(value('--seed') ?? 1);
  if (out === undefined || !Number.isInteger(lines) || lines < 1 || !(badRatio >= 0 && badRatio <= 1) || !Number.isInteger(seed)) {
    process.stderr.write('Usage: npm run bench:import-file -- --out FILE [--lines N (default 100000)] [--bad-ratio 0..1 (default 0)] [--seed S (default 1)]\n');
    process.exit(2);
  }
  const started = performance.now();
  const result = await generateImportFile(out, { lines, badRatio, seed });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`Wrote ${result.lines.toLocaleString('en-US')} lines (${result.bad.toLocaleString('en-US')} bad) to ${out} in ${seconds.toFixed(1)} s\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:import-file failed: ${(error as Error).stack}\n`);
    process.exit(2);
  });
}
