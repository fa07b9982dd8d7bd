import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's CPU times. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in clock ticks (Linux /proc); null when it can't be read. */
export async function cpuTicks(pid: number): Promise<number | null> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** Busy CPU time of the whole machine (every core), in clock ticks (Linux /proc/stat); null when it can't be read. */
export async function machineBusyTicks(): Promise<number | null> {
  try {
    const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait.
    return fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + fields[7]!;
  } catch {
    return null;
  }
}

/** CPU seconds of named processes over a window, and of the rest of the machine. */
export interface CpuSplit {
  readonly seconds: Record<string, number | null>;
  readonly rest: number | null;
}

/**
 * Starts measuring the CPU of `pids` (null: this process) and of the machine; the returned
 * function ends the window and gives each one's CPU seconds, and what the rest of the machine used.
 */
export async function cpuWindow(pids: Record<string, number | null>): Promise<() => Promise<CpuSplit>> {
  const ownTicks = () => {
    const { user, system } = process.cpuUsage();
    return ((user + system) / 1e6) * CLK_TCK;
  };
  const ticksOf = async (pid: number | null) => (pid === null ? ownTicks() : await cpuTicks(pid));
  const names = Object.keys(pids);
  const before = await Promise.all(names.map((name) => ticksOf(pids[name] ?? null)));
  const machineBefore = await machineBusyTicks();
  return async () => {
    const after = await Promise.all(names.map((name) => ticksOf(pids[name] ?? null)));
    const machineAfter = await machineBusyTicks();
    const seconds: Record<string, number | null> = {};
    names.forEach((name, i) => {
      seconds[name] = before[i] === null || after[i] === null ? null : (after[i]! - before[i]!) / CLK_TCK;
    });
    const known = Object.values(seconds).reduce<number>((sum, s) => sum + (s ?? 0), 0);
    const rest = machineBefore === null || machineAfter === null ? null : (machineAfter - machineBefore) / CLK_TCK - known;
    return { seconds, rest };
  };
}
