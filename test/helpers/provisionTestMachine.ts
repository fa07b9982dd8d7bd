import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { FERRETDB_VERSION, ferretdbBinaryPath } from '../../dev/embedded/ferretdbBinary.js';

const run = promisify(execFile);

/** Where the browser tests find Debian's Chromium (the `chromium` package installs it here). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** What a test run must do about a tool it needs: nothing, install it, or stop with the sentence saying what to install. */
export type ProvisionStep = { kind: 'present' } | { kind: 'install' } | { kind: 'fail'; message: string };

/**
 * Decides what to do about Chromium: install Debian's package only as root on a machine with
 * apt-get; anywhere else, fail with one sentence (a browser test that quietly skips proves nothing).
 */
export function chromiumStep(machine: { chromiumPresent: boolean; root: boolean; apt: boolean }): ProvisionStep {
  if (machine.chromiumPresent) return { kind: 'present' };
  if (machine.root && machine.apt) return { kind: 'install' };
  return {
    kind: 'fail',
    message: `The browser tests need Debian's Chromium at ${CHROMIUM_PATH}: install it with \`sudo apt-get install -y chromium\` (or run the tests as root, which installs it), then run them again.`,
  };
}

/**
 * Decides what to do about FerretDB: nothing when MONGODB_URI names a server or the binary is
 * cached; build it (the global setup does, through `startFerretdb`) when Go is there; else fail.
 */
export function ferretdbStep(machine: { mongoUriSet: boolean; binaryPresent: boolean; go: boolean }): ProvisionStep {
  if (machine.mongoUriSet || machine.binaryPresent) return { kind: 'present' };
  if (machine.go) return { kind: 'install' };
  return {
    kind: 'fail',
    message: `The tests need FerretDB ${FERRETDB_VERSION}, which is built from source with Go: put Go 1.24 or newer on PATH (https://go.dev/dl/), or set FERRETDB_BIN to a FerretDB ${FERRETDB_VERSION} binary built with the fix in dev/embedded/ferretdbBinary.ts (FERRETDB_PATCH), or set MONGODB_URI to a MongoDB-compatible server to test against.`,
  };
}

/**
 * Makes the machine ready for the selected test files before any of them runs: installs Debian's
 * Chromium when a selected file drives a browser, and checks FerretDB can be built. Throws one
 * sentence saying what to install when it cannot do it itself.
 */
export async function provisionTestMachine(project: TestProject, log: (line: string) => void): Promise<void> {
  const ferretdb = ferretdbStep({
    mongoUriSet: Boolean(process.env.MONGODB_URI),
    binaryPresent: await isFile(ferretdbBinaryPath()),
    go: await succeeds('go', ['version']),
  });
  if (ferretdb.kind === 'fail') throw new Error(ferretdb.message);

  if (!(await selectsBrowserTest(project))) return;
  const chromium = chromiumStep({
    chromiumPresent: await isExecutable(CHROMIUM_PATH),
    root: process.getuid?.() === 0,
    apt: await succeeds('apt-get', ['--version']),
  });
  if (chromium.kind === 'fail') throw new Error(chromium.message);
  if (chromium.kind === 'install') await installChromium(log);
}

// Only a run that includes a browser test pays for Chromium; a browser test is one that imports
// playwright-core, so a new one is covered without editing this list.
async function selectsBrowserTest(project: TestProject): Promise<boolean> {
  const { testFiles } = await project.globTestFiles(project.vitest.config.filters);
  for (const file of testFiles) {
    if ((await readFile(file, 'utf8')).includes("from 'playwright-core'")) return true;
  }
  return false;
}

async function installChromium(log: (line: string) => void): Promise<void> {
  log(`Installing Debian's chromium package with apt-get for the browser tests (first run only; a minute or two)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for another apt (a parallel run, unattended upgrades) instead of failing on its lock.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  try {
    // A fresh Debian image has no package lists, so the install alone would not find the package.
    await run('apt-get', [...lock, 'update', '-qq'], { env, maxBuffer: 64 * 1024 * 1024 });
    await run('apt-get', [...lock, 'install', '-y', '-qq', 'chromium'], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim().split('\n').slice(-5).join('\n');
    throw new Error(`apt-get could not install Debian's chromium package, which the browser tests need at ${CHROMIUM_PATH}: ${stderr || String(error)}`);
  }
  if (!(await isExecutable(CHROMIUM_PATH))) {
    throw new Error(`apt-get installed Debian's chromium package but ${CHROMIUM_PATH} is still missing.`);
  }
  log(`Installed ${CHROMIUM_PATH}.`);
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args, { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
