import { describe, expect, it } from 'vitest';
import { chromiumStep, ferretdbStep } from '../helpers/provisionTestMachine.js';

describe('provisioning a test machine', () => {
  it('leaves an installed Chromium alone, whoever runs the tests', () => {
    expect(chromiumStep({ chromiumPresent: true, root: false, apt: false })).toEqual({ kind: 'present' });
  });

  it('installs a missing Chromium with apt-get when running as root on Debian', () => {
    expect(chromiumStep({ chromiumPresent: false, root: true, apt: true })).toEqual({ kind: 'install' });
  });

  it('needs no FerretDB binary when MONGODB_URI names a server', () => {
    expect(ferretdbStep({ mongoUriSet: true, binaryPresent: false, go: false })).toEqual({ kind: 'present' });
  });

  it('uses a cached FerretDB binary without needing Go', () => {
    expect(ferretdbStep({ mongoUriSet: false, binaryPresent: true, go: false })).toEqual({ kind: 'present' });
  });

  it('builds a missing FerretDB binary when Go is on PATH', () => {
    expect(ferretdbStep({ mongoUriSet: false, binaryPresent: false, go: true })).toEqual({ kind: 'install' });
  });
});
