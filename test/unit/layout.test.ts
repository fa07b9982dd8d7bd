import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layout is a promise to the next engineer: src/ is the deployable subgraph and stands alone;
// gateway/ composes SDL files and never pulls in the service's schema, store or database driver.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

// Every module specifier a file names: static imports and re-exports, `import type`, and dynamic `import('…')`.
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:^|[\s;}])(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm), ...text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g), ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)];
  return found.map((match) => match[1]!);
}

// A relative specifier as the repository path it names, `.js` read as the `.ts` source.
function resolveRelative(from: string, specifier: string): string {
  return resolve(dirname(from), specifier).replace(/\.js$/, '.ts');
}

const repoPath = (path: string) => relative(ROOT, path).split(sep).join('/');

describe('the layout', () => {
  it('src/ imports nothing outside src/: the deployable subgraph carries no harness', () => {
    const src = join(ROOT, 'src');
    const files = tsFiles(src);
    expect(files.length).toBeGreaterThan(20);
    const outside = files.flatMap((file) =>
      specifiers(file)
        .filter((s) => s.startsWith('.'))
        .map((s) => ({ file: repoPath(file), target: repoPath(resolveRelative(file, s)) }))
        .filter(({ target }) => !target.startsWith('src/')),
    );
    expect(outside).toEqual([]);
  });

  it('gateway/ never reaches src/schema.ts, src/store/ or mongodb, directly or through what it imports', () => {
    const forbidden = (path: string) => path === 'src/schema.ts' || path.startsWith('src/store/');
    const entries = tsFiles(join(ROOT, 'gateway'));
    expect(entries.length).toBeGreaterThanOrEqual(4);
    const seen = new Set<string>();
    const reached: string[] = [];
    const visit = (file: string, via: string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const s of specifiers(file)) {
        const chain = [...via, repoPath(file)];
        if (s === 'mongodb' || s.startsWith('mongodb/')) reached.push(`${chain.join(' → ')} → mongodb`);
        if (!s.startsWith('.')) continue;
        const target = resolveRelative(file, s);
        if (forbidden(repoPath(target))) reached.push(`${chain.join(' → ')} → ${repoPath(target)}`);
        else visit(target, chain);
      }
    };
    for (const entry of entries) visit(entry, []);
    expect(reached).toEqual([]);
    // The walk really follows imports into src/ (the auth helpers the gateway shares).
    expect([...seen].map(repoPath)).toContain('src/auth/checkTokenLifetime.ts');
  });
});
