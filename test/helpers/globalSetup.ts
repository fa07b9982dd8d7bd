import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startFerretdb, type RunningFerretdb } from '../../dev/embedded/startFerretdb.js';
import { provisionTestMachine } from './provisionTestMachine.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    ferretdbMetricsUrl: string | null;
  }
}

let ferretdb: RunningFerretdb | null = null;
let dataDir: string | null = null;

/**
 * Provisions what the selected tests need (Chromium, the FerretDB binary), then starts one FerretDB
 * for the whole run unless MONGODB_URI names a server to use instead.
 */
export async function setup(project: TestProject): Promise<void> {
  await provisionTestMachine(project, (line) => console.log(line));
  if (process.env.MONGODB_URI) {
    project.provide('mongoUri', process.env.MONGODB_URI);
    project.provide('ferretdbMetricsUrl', null);
    return;
  }
  dataDir = await mkdtemp(join(tmpdir(), 'consent-test-db-'));
  ferretdb = await startFerretdb({ dataDir, log: (line) => console.log(line) });
  project.provide('mongoUri', ferretdb.uri);
  project.provide('ferretdbMetricsUrl', ferretdb.metricsUrl);
}

/** Stops the FerretDB this run started and removes its data. */
export async function teardown(): Promise<void> {
  await ferretdb?.stop();
  if (dataDir !== null) await rm(dataDir, { recursive: true, force: true });
}
