import { describe, expect, it } from 'vitest';
import { chromiumStep, ferretdbStep, type ProvisionStep } from '../helpers/provisionTestMachine.js';

// A machine the test command cannot provision must stop the run with one sentence saying what to
// install; it must never turn into a skipped test.

function failure(step: ProvisionStep): string {
  if (step.kind !== 'fail') throw new Error(`expected a failure, got ${JSON.stringify(step)}`);
  return step.message;
}

function sentences(text: string): number {
  // Split on sentence ends, ignoring the dots inside paths, versions and URLs.
  return text.split(/[.!?](?:\s|$)/).filter((part) => part.trim() !== '').length;
}

describe('provisioning a machine that lacks a tool it cannot install', () => {
  it('fails without root, naming the Chromium package and the apt-get command', () => {
    const message = failure(chromiumStep({ chromiumPresent: false, root: false, apt: true }));
    expect(message).toContain('/usr/bin/chromium');
    expect(message).toContain('apt-get install -y chromium');
    expect(sentences(message)).toBe(1);
  });

  it('fails as root on a machine without apt-get instead of skipping the browser tests', () => {
    const message = failure(chromiumStep({ chromiumPresent: false, root: true, apt: false }));
    expect(message).toContain('apt-get install -y chromium');
    expect(sentences(message)).toBe(1);
  });

  it('fails without Go or a FerretDB binary, naming Go, FERRETDB_BIN and MONGODB_URI', () => {
    const message = failure(ferretdbStep({ mongoUriSet: false, binaryPresent: false, go: false }));
    expect(message).toMatch(/Go 1\.24/);
    expect(message).toContain('FERRETDB_BIN');
    expect(message).toContain('MONGODB_URI');
    expect(sentences(message)).toBe(1);
  });
});
