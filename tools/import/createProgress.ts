/** Where an import has got to. */
export interface ProgressCounts {
  /** Lines handled so far (written, replayed or skipped). */
  readonly done: number;
  readonly total: number;
}

/** Draws an import's progress on a stream and lets notes be printed without garbling it. */
export interface Progress {
  update(counts: ProgressCounts): void;
  /** Prints a line of its own (a bad line's report), above the bar on a terminal. */
  note(text: string): void;
  /** Removes the bar (terminal) or prints a last progress line (otherwise). */
  finish(counts: ProgressCounts): void;
}

/** How the progress is shown. */
export interface ProgressOptions {
  /** Redraw one line in place (a terminal), or print a line every `intervalMs` (a log). @default stream.isTTY */
  readonly tty?: boolean;
  /** Time between progress lines when not on a terminal. @default 5000 */
  readonly intervalMs?: number;
  /** Clock, for tests. @default performance.now */
  readonly now?: () => number;
}

const BAR_WIDTH = 30;
// A terminal redraw ten times a second looks live and costs nothing next to the writes.
const TTY_INTERVAL_MS = 100;

/**
 * A progress display for `stream` (stderr): lines done of the total, the rate in changes per second
 * (a change is a line) and the time left at that rate; a bar redrawn in place on a terminal, else
 * a plain line every few seconds, so a log shows the import advancing without a flood.
 */
export function createProgress(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, options: ProgressOptions = {}): Progress {
  const tty = options.tty ?? stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  const interval = tty ? TTY_INTERVAL_MS : (options.intervalMs ?? 5000);
  const started = now();
  let lastDrawn = started;
  let drawn = false;
  let last: ProgressCounts = { done: 0, total: 0 };

  const text = (counts: ProgressCounts): string => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? counts.done / seconds : 0;
    const left = Math.max(counts.total - counts.done, 0);
    const eta = rate > 0 ? formatDuration(left / rate) : '?';
    const share = counts.total > 0 ? Math.min(counts.done / counts.total, 1) : 1;
    const figures = `${counts.done.toLocaleString('en-US')}/${counts.total.toLocaleString('en-US')} lines ${(share * 100).toFixed(1)}% · ${Math.round(rate).toLocaleString('en-US')} changes/s · ETA ${eta}`;
    if (!tty) return `import: ${figures}`;
    const filled = Math.round(share * BAR_WIDTH);
    return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${figures}`;
  };

  const draw = (counts: ProgressCounts) => {
    if (tty) stream.write(`\r\x1b[2K${text(counts)}`);
    else stream.write(`${text(counts)}\n`);
    drawn = tty;
    lastDrawn = now();
  };
  const clear = () => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };

  // Redrawn on a timer too, so a long batch shows the import alive and the rate falling.
  const timer = setInterval(() => draw(last), tty ? 1000 : interval);
  timer.unref();

  return {
    update(counts) {
      last = counts;
      if (now() - lastDrawn >= interval) draw(counts);
    },
    note(line) {
      clear();
      stream.write(`${line}\n`);
      if (tty) draw(last);
    },
    finish(counts) {
      clearInterval(timer);
      if (tty) clear();
      else draw(counts);
    },
  };
}

/** Seconds as `1:02:03`, `2:03` or `3 s`. */
export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
