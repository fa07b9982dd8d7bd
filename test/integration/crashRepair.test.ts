import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../src/consent/validate.js';
import { createProjectionRepairer, type ProjectionRepairer } from '../../src/store/createProjectionRepairer.js';
import type { ConsentStore } from '../../src/store/ConsentStore.js';
import { nextEventDoc } from '../../src/store/documents.js';
import { subjectKey } from '../../src/store/subjectKey.js';
import { capturedLogger } from '../helpers/capturedLogger.js';
import { aClearChange } from '../helpers/changes.js';
import { anotherConnection, ledgerHead, mongoUri, projectionMatchesHead } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { adminToken, readToken } from '../helpers/tokens.js';

const DECISION = /* GraphQL */ `
  query Decision($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on Artist { consent { decision(purpose: VOICE_REPLICATION) { allowed basis } } } }
  }`;
const SET = /* GraphQL */ `
  mutation Set($input: SetConsentInput!) { setConsent(input: $input) { event { seq } } }`;

// What a writer killed between its two writes leaves behind: the ledger event (built exactly as
// ConsentStore.append builds it) is in consent_events; the projection was never updated.
async function crashAfterLedgerInsert(store: ConsentStore, change: Change): Promise<void> {
  const key = subjectKey(change.subject);
  const [head, last] = await Promise.all([
    ledgerHead(store, key),
    store.collections.events.find({}).sort({ gseq: -1 }).limit(1).next(),
  ]);
  await store.collections.events.insertOne(nextEventDoc(change, key, 'crashed-writer', new Date(), head, last?.gseq ?? 0, null));
}

/** Runs test/helpers/crashingWriter.ts, a real process that is SIGKILLed between its two writes. */
function runCrashingWriter(store: ConsentStore, artistId: string): Promise<NodeJS.Signals | null> {
  const script = new URL('../helpers/crashingWriter.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, mongoUri(), store.collections.events.dbName, artistId], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('a writer killed between the ledger insert and the projection update', () => {
  let subgraph: TestSubgraph;
  let reader: string;
  let admin: string;
  const repairers: ProjectionRepairer[] = [];

  const decision = async (artistId: string) =>
    (await subgraph.query(DECISION, { representations: [{ __typename: 'Artist', id: artistId }] }, reader)).data._entities[0].consent.decision;

  beforeAll(async () => {
    subgraph = await startTestSubgraph();
    reader = await readToken();
    admin = await adminToken();
  });
  afterAll(async () => {
    for (const repairer of repairers) await repairer.stop();
    await subgraph?.stop();
  });

  it('is repaired by the running service\'s periodic sweep, without a restart', async () => {
    const { logger, lines } = capturedLogger();
    const repairer = createProjectionRepairer({ store: subgraph.store, logger, intervalMs: 200, deepIntervalMs: 200, staleCommitMs: 300 });
    repairers.push(repairer);
    await repairer.start();
    const allow = { subject: { artistId: 'a-live' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1' };
    expect((await subgraph.query(SET, { input: allow }, admin)).errors).toBeUndefined();
    expect(await decision('a-live')).toEqual({ allowed: true, basis: 'INHERITED' });

    // A real process, killed with SIGKILL right after its ledger insert.
    expect(await runCrashingWriter(subgraph.store, 'a-live')).toBe('SIGKILL');
    const head = await ledgerHead(subgraph.store, 'artist/a-live');
    expect(head).toMatchObject({ seq: 2, actor: 'crashing-writer', choice: 'DENY' });

    // The write was acknowledged before its projector ran: reads see it at once (the log).
    expect(await decision('a-live')).toEqual({ allowed: false, basis: 'INHERITED' });
    await expect.poll(() => projectionMatchesHead(subgraph.store, 'artist/a-live'), { timeout: 5000, interval: 50 }).toBe(true);
    // The sweep logs only keys whose projection it found behind: the dead writer's.
    // (logged once the sweep that wrote it ends)
    await expect.poll(() => lines.find((l) => l.msg === 'repaired projections behind the ledger'), { timeout: 5000, interval: 50 }).toMatchObject({ level: 40, repaired: ['artist/a-live'] });
    await repairer.stop();
  });

  it('is repaired by the start-up sweep of a restarted service before it serves', async () => {
    const allow = { subject: { artistId: 'a-restart' }, purpose: 'AI_TRAINING', choice: 'ALLOW', termsVersion: 'tos-1' };
    expect((await subgraph.query(SET, { input: allow }, admin)).errors).toBeUndefined();
    await crashAfterLedgerInsert(subgraph.store, aClearChange('a-restart', 'AI_TRAINING'));
    expect(await runCrashingWriter(subgraph.store, 'a-restart')).toBe('SIGKILL');
    expect(await projectionMatchesHead(subgraph.store, 'artist/a-restart')).toBe(false);
    // The dead writer's DENY was acknowledged (its projector died after): reads already see it.
    expect(await decision('a-restart')).toEqual({ allowed: false, basis: 'INHERITED' });

    // The "restarted" service: a new connection and a new repairer whose first sweep covers the whole ledger.
    const restarted = await anotherConnection(subgraph.store);
    try {
      const repairer = createProjectionRepairer({ store: restarted, logger: pino({ level: 'silent' }), intervalMs: 60_000, staleCommitMs: 0 });
      repairers.push(repairer);
      await repairer.start();
      expect(await projectionMatchesHead(subgraph.store, 'artist/a-restart')).toBe(true);
      expect(await decision('a-restart')).toEqual({ allowed: false, basis: 'INHERITED' });
    } finally {
      await restarted.close();
    }
  });

  it('logs a failed sweep and resolves instead of throwing', async () => {
    const { logger, lines } = capturedLogger();
    const broken = await anotherConnection(subgraph.store);
    const repairer = createProjectionRepairer({ store: broken, logger, intervalMs: 100 });
    await broken.close();
    expect(await repairer.sweep()).toEqual([]);
    expect(lines.some((l) => l.msg === 'projection repair sweep failed; will retry')).toBe(true);
    await repairer.stop();
  });
});
