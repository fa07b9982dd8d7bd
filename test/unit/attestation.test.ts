import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attestationStatement, canonicalLeaf, leafHash, merkleRoot, type AttestedDecision } from '../../src/consent/attestation.js';

function aDecision(overrides: Partial<AttestedDecision> = {}): AttestedDecision {
  return {
    artistId: 'a-1',
    trackId: 't-1',
    featuredArtistIds: ['a-2'],
    originalArtistIds: [],
    purpose: 'GENERATIVE_AI_TRAINING',
    allowed: true,
    basis: 'EXPLICIT',
    scope: 'TRACK',
    statementId: 'track/a-1/t-1#1',
    parties: [
      { artistId: 'a-1', role: 'MAIN', allowed: true, statementId: 'track/a-1/t-1#1' },
      { artistId: 'a-2', role: 'FEATURED', allowed: true, statementId: 'artist/a-2#1' },
    ],
    ...overrides,
  };
}

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

describe('canonical decision leaves', () => {
  it('lists the fields in a fixed order whatever the key order of the object', () => {
    const d = aDecision();
    const reordered = Object.fromEntries(Object.entries(d).reverse()) as unknown as AttestedDecision;
    expect(canonicalLeaf(reordered)).toBe(canonicalLeaf(d));
    expect(JSON.parse(canonicalLeaf(d))).toEqual([
      'consent-decision/1', 'a-1', 't-1', ['a-2'], [], 'GENERATIVE_AI_TRAINING', true, 'EXPLICIT', 'TRACK', 'track/a-1/t-1#1',
      [['a-1', 'MAIN', true, 'track/a-1/t-1#1'], ['a-2', 'FEATURED', true, 'artist/a-2#1']],
    ]);
  });

  it('hashes a leaf as SHA-256 of 0x00 and its UTF-8 bytes', () => {
    const d = aDecision();
    expect(leafHash(d)).toBe(sha(Buffer.from([0]), Buffer.from(canonicalLeaf(d), 'utf8')).toString('hex'));
  });
});

describe('merkleRoot', () => {
  it('is SHA-256 of nothing for the empty set', () => {
    expect(merkleRoot([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('is the leaf hash itself for one leaf', () => {
    const h = leafHash(aDecision());
    expect(merkleRoot([h])).toBe(h);
  });

  it('hashes pairs with 0x01 and promotes an odd last node unchanged', () => {
    const [a, b, c] = ['a-1', 'a-2', 'a-3'].map((artistId) => Buffer.from(leafHash(aDecision({ artistId })), 'hex'));
    const ab = sha(Buffer.from([1]), a!, b!);
    expect(merkleRoot([a!, b!, c!].map((x) => x.toString('hex')))).toBe(sha(Buffer.from([1]), ab, c!).toString('hex'));
  });

  it('depends on the order of the leaves', () => {
    const hashes = ['a-1', 'a-2'].map((artistId) => leafHash(aDecision({ artistId })));
    expect(merkleRoot(hashes)).not.toBe(merkleRoot([...hashes].reverse()));
  });
});

describe('attestationStatement', () => {
  const fields = (decisions: AttestedDecision[]) => ({
    kid: 'k1', issuedAt: new Date('2026-12-01T00:00:00Z'), asOf: new Date('2026-11-30T00:00:00Z'), purpose: 'GENERATIVE_AI_TRAINING' as const,
    policyVersion: 'p1', head: { position: 7, hash: 'ab' }, decisions,
  });

  it('gives the same root, byte for byte, for the same decisions', () => {
    const decisions = Array.from({ length: 37 }, (_, i) => aDecision({ trackId: `t-${i}`, allowed: i % 3 !== 0 }));
    const copy = JSON.parse(JSON.stringify(decisions)) as AttestedDecision[];
    expect(JSON.stringify(attestationStatement(fields(copy)))).toBe(JSON.stringify(attestationStatement(fields(decisions))));
  });

  it('changes the root when any one leaf field changes', () => {
    const base = [aDecision({ trackId: 't-0' }), aDecision(), aDecision({ trackId: 't-2' })];
    const root = attestationStatement(fields(base)).root;
    const party = base[1]!.parties[1]!;
    const variants: Array<Partial<AttestedDecision>> = [
      { artistId: 'a-9' }, { trackId: null }, { featuredArtistIds: [] }, { originalArtistIds: ['a-3'] }, { purpose: 'VOICE_REPLICATION' },
      { allowed: false }, { basis: 'INHERITED' }, { scope: 'ARTIST' }, { statementId: null },
      { parties: [base[1]!.parties[0]!, { ...party, artistId: 'a-8' }] }, { parties: [base[1]!.parties[0]!, { ...party, role: 'ORIGINAL' }] },
      { parties: [base[1]!.parties[0]!, { ...party, allowed: false }] }, { parties: [base[1]!.parties[0]!, { ...party, statementId: null }] },
      { parties: [base[1]!.parties[0]!] },
    ];
    for (const variant of variants) {
      const changed = [base[0]!, aDecision(variant), base[2]!];
      expect(attestationStatement(fields(changed)).root, JSON.stringify(variant)).not.toBe(root);
    }
  });

  it('counts allowed and denied decisions and attests an empty set', () => {
    expect(attestationStatement(fields([aDecision(), aDecision({ allowed: false })])).counts).toEqual({ total: 2, allowed: 1, denied: 1 });
    const empty = attestationStatement(fields([]));
    expect(empty).toMatchObject({ counts: { total: 0, allowed: 0, denied: 0 }, leafHashes: [], root: merkleRoot([]) });
  });
});
