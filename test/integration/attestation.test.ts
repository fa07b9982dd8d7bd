import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttestationKeys, generateAttestationJwk, publicJwkOf } from '../../src/attestationKeys.js';
import { verifyAttestation } from '../../tools/verifyAttestation.js';
import { aSetChange } from '../helpers/changes.js';
import { mongoUri } from '../helpers/database.js';
import { startTestSubgraph, type TestSubgraph } from '../helpers/subgraph.js';
import { readToken } from '../helpers/tokens.js';

const ATTEST = /* GraphQL */ `
  query Attest($requests: [DecisionRequest!]!, $purpose: ConsentPurpose!, $asOf: DateTime) {
    trainingSetAttestation(requests: $requests, purpose: $purpose, asOf: $asOf) {
      version purpose asOf issuedAt keyId policyVersion
      ledgerHead { position hash }
      counts { total allowed denied }
      merkleRoot decisions jws
    }
  }`;

const REQUESTS = [
  { artistId: 'att-a', trackId: 'att-t1', featuredArtistIds: ['att-f'] },
  { artistId: 'att-a', trackId: 'att-t2' },
  { artistId: 'att-b' },
  { artistId: 'att-a', trackId: 'att-t3', featuredArtistIds: ['att-f'], originalArtistIds: ['att-o'] },
];

describe('trainingSetAttestation', () => {
  let subgraph: TestSubgraph;
  let reader: string;
  let jwks: { keys: unknown[] };
  let attestation: any;
  const oldJwk = generateAttestationJwk('old-key');
  const newJwk = generateAttestationJwk('new-key');

  beforeAll(async () => {
    subgraph = await startTestSubgraph({ attestationKeys: await createAttestationKeys(await newJwk, [publicJwkOf(await oldJwk)]) });
    reader = await readToken();
    const t = Date.now() - 60_000;
    await subgraph.store.append(aSetChange('att-a', 'GENERATIVE_AI_TRAINING'), 'setup', new Date(t));
    await subgraph.store.append(aSetChange('att-f', 'AI_TRAINING'), 'setup', new Date(t));
    await subgraph.store.append(aSetChange('att-a', 'GENERATIVE_AI_TRAINING', { trackId: 'att-t2', choice: 'DENY' }), 'setup', new Date(t + 1));
    const res = await subgraph.query(ATTEST, { requests: REQUESTS, purpose: 'GENERATIVE_AI_TRAINING' }, reader);
    expect(res.errors).toBeUndefined();
    attestation = res.data.trainingSetAttestation;
    jwks = (await (await fetch(new URL('/.well-known/jwks.json', subgraph.url))).json()) as { keys: unknown[] };
  }, 120_000);
  afterAll(() => subgraph.stop());

  it('returns every decision with its parties, the head, the counts and a signature that verifies against the served JWKS', async () => {
    expect(attestation.decisions.map((d: any) => [d.allowed, d.parties.map((p: any) => [p.artistId, p.role, p.allowed])])).toEqual([
      [true, [['att-a', 'MAIN', true], ['att-f', 'FEATURED', true]]],
      [false, [['att-a', 'MAIN', false]]],
      [false, [['att-b', 'MAIN', false]]],
      [false, [['att-a', 'MAIN', true], ['att-f', 'FEATURED', true], ['att-o', 'ORIGINAL', false]]],
    ]);
    expect(attestation.counts).toEqual({ total: 4, allowed: 1, denied: 3 });
    expect(attestation.ledgerHead.position).toBe('3');
    expect(attestation.keyId).toBe('new-key');
    expect(await verifyAttestation({ data: { trainingSetAttestation: attestation } }, { jwks: jwks as never, store: subgraph.store })).toEqual({ ok: true, decisions: 4, rederived: true });
  });

  it('serves the current and retired public keys, with no private part, cached for minutes', async () => {
    const response = await fetch(new URL('/.well-known/jwks.json', subgraph.url));
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(jwks.keys.map((k: any) => k.kid)).toEqual(['new-key', 'old-key']);
    expect(jwks.keys.every((k: any) => !('d' in k))).toBe(true);
  });

  it('gives the same root, byte for byte, for the same asOf and ledger', async () => {
    const again = await subgraph.query(ATTEST, { requests: REQUESTS, purpose: 'GENERATIVE_AI_TRAINING', asOf: attestation.asOf }, reader);
    expect(again.data.trainingSetAttestation.merkleRoot).toBe(attestation.merkleRoot);
    expect(JSON.stringify(again.data.trainingSetAttestation.decisions)).toBe(JSON.stringify(attestation.decisions));
  });

  it('catches a changed decision and names it', async () => {
    const tampered = structuredClone(attestation);
    tampered.decisions[1].allowed = true;
    expect(await verifyAttestation(tampered, { jwks: jwks as never })).toMatchObject({ ok: false, failure: expect.stringMatching(/^decisions\[1\]: its leaf hash/) });
  });

  it('catches a changed root and names it', async () => {
    const tampered = structuredClone(attestation);
    tampered.merkleRoot = flipHex(tampered.merkleRoot);
    expect(await verifyAttestation(tampered, { jwks: jwks as never })).toMatchObject({ ok: false, failure: expect.stringMatching(/^merkleRoot: /) });
  });

  it('catches a changed ledger head and names it', async () => {
    const tampered = structuredClone(attestation);
    tampered.ledgerHead.hash = flipHex(tampered.ledgerHead.hash);
    expect(await verifyAttestation(tampered, { jwks: jwks as never })).toMatchObject({ ok: false, failure: expect.stringMatching(/^ledgerHead\.hash: /) });
  });

  it('catches a changed signature and names it', async () => {
    const tampered = structuredClone(attestation);
    const [header, payload, signature] = tampered.jws.split('.');
    const i = 10;
    tampered.jws = `${header}.${payload}.${signature.slice(0, i)}${signature[i] === 'A' ? 'B' : 'A'}${signature.slice(i + 1)}`;
    expect(await verifyAttestation(tampered, { jwks: jwks as never })).toMatchObject({ ok: false, failure: expect.stringMatching(/^signature: /) });
  });

  it('still verifies an attestation signed with a retired key listed in the JWKS, and not once the key is dropped', async () => {
    const old = await startTestSubgraph({ store: subgraph.store, attestationKeys: await createAttestationKeys(await oldJwk) });
    try {
      const res = await old.query(ATTEST, { requests: REQUESTS, purpose: 'GENERATIVE_AI_TRAINING' }, reader);
      const signedWithOld = res.data.trainingSetAttestation;
      expect(signedWithOld.keyId).toBe('old-key');
      expect(await verifyAttestation(signedWithOld, { jwks: jwks as never })).toMatchObject({ ok: true });
      const withoutOld = { keys: jwks.keys.filter((k: any) => k.kid !== 'old-key') };
      expect(await verifyAttestation(signedWithOld, { jwks: withoutOld as never })).toMatchObject({ ok: false, failure: expect.stringMatching(/^signature: /) });
    } finally {
      await old.stop();
    }
  });

  it('catches a tampered ledger when re-deriving the decisions, naming the decision and field', async () => {
    const res = await subgraph.query(ATTEST, { requests: REQUESTS, purpose: 'GENERATIVE_AI_TRAINING' }, reader);
    const fresh = res.data.trainingSetAttestation;
    // Someone rewrites the DENY on att-t2 into an ALLOW, in the event and its stored state alike.
    const events = subgraph.store.collections.events;
    const filter = { subject: 'track/att-a/att-t2', seq: 1 };
    await events.updateOne(filter, { $set: { choice: 'ALLOW', 'state.0.choice': 'ALLOW' } });
    try {
      expect(await verifyAttestation(fresh, { jwks: jwks as never })).toMatchObject({ ok: true });
      expect(await verifyAttestation(fresh, { jwks: jwks as never, store: subgraph.store })).toMatchObject({
        ok: false,
        failure: expect.stringMatching(/^decisions\[1\]\.allowed: the ledger at .* gives true, the attestation says false/),
      });
    } finally {
      await events.updateOne(filter, { $set: { choice: 'DENY', 'state.0.choice': 'DENY' } });
    }
  });

  it('runs as npm run attestation:verify: exit 0 when it verifies, 1 naming the failure, 2 when it cannot run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attest-'));
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    const keys = join(dir, 'jwks.json');
    await writeFile(good, JSON.stringify({ data: { trainingSetAttestation: attestation } }));
    const tampered = structuredClone(attestation);
    tampered.decisions[2].parties[0].allowed = true;
    await writeFile(bad, JSON.stringify(tampered));
    await writeFile(keys, JSON.stringify(jwks));
    const env = { ...process.env, MONGODB_URI: mongoUri(), MONGODB_DB: subgraph.store.collections.events.dbName };
    const run = (args: string[], extraEnv: Record<string, string> = {}) =>
      promisify(execFile)('npx', ['tsx', 'tools/verifyAttestation.ts', ...args], { env: { ...env, ...extraEnv } }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout + error.stderr }),
      );
    const ok = await run([good], { ATTESTATION_JWKS_URL: new URL('/.well-known/jwks.json', subgraph.url).href });
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/^OK .*re-derived from the ledger/) });
    expect(await run([bad, '--jwks', keys])).toMatchObject({ code: 1, stdout: expect.stringMatching(/^FAILED decisions\[2\]: /) });
    expect(await run([good])).toMatchObject({ code: 2, stdout: expect.stringMatching(/no keys/) });
  }, 60_000);
});

function flipHex(hex: string): string {
  return `${hex[0] === '0' ? '1' : '0'}${hex.slice(1)}`;
}
