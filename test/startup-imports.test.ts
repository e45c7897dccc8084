// The webhook's start-up time and resident memory are product figures (issue 12: ready within 2 s, RSS under
// 200 MB): @kubernetes/client-node alone costs about 0.6 s and 70 MB to load, selfsigned a third of a second. A
// server that never calls the API, or is given its certificate, must not load them. This walks the static import
// graph of `serve` (what Node loads before the first request) and fails when either is reachable, naming the path.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** `import x from '…'` and `export … from '…'`, but not `import type` / `export type` (erased by tsc). */
const STATIC_IMPORT = /^(?:import|export)\s+(?!type\s)(?:[^;'"]*?\sfrom\s+)?'([^']+)';/gms;

function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(STATIC_IMPORT)].map((m) => m[1]!);
}

/** The chain of modules from `entry` to the first package whose name is in `packages`, or null. */
function pathToPackage(entry: string, packages: readonly string[]): string[] | null {
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): string[] | null => {
    if (seen.has(file)) return null;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) {
        const next = join(dirname(file), spec.replace(/\.js$/, '.ts'));
        const found = walk(next, [...chain, next.slice(SRC.length + 1)]);
        if (found !== null) return found;
      } else if (packages.some((p) => spec === p || spec.startsWith(`${p}/`))) {
        return [...chain, spec];
      }
    }
    return null;
  };
  return walk(entry, [entry.slice(SRC.length + 1)]);
}

describe('what the server loads before its first request', () => {
  const heavy = ['@kubernetes/client-node', 'selfsigned'];

  it.each([['main.ts'], ['cli/program.ts'], ['cli/serve.ts'], ['http/app.ts']])(
    '%s reaches neither the Kubernetes client nor the certificate library statically',
    (entry) => {
      expect(pathToPackage(join(SRC, entry), heavy)).toBeNull();
    },
  );

  it('the walk does find them where they are used (the check itself works)', () => {
    expect(pathToPackage(join(SRC, 'kube/webhook-certificates.ts'), heavy)).toEqual([
      'kube/webhook-certificates.ts',
      '@kubernetes/client-node',
    ]);
    expect(pathToPackage(join(SRC, 'kube/kube-config.ts'), heavy)?.at(-1)).toBe('@kubernetes/client-node');
    expect(pathToPackage(join(SRC, 'certs/issue.ts'), heavy)?.at(-1)).toBe('selfsigned');
  });
});
