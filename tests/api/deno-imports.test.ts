// One source of versions: every npm package deno.json maps for the edge functions is pinned to exactly the
// version package.json pins for Node, and every bare import in functions/ resolves through deno.json.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const denoJson = JSON.parse(readFileSync(join(root, 'deno.json'), 'utf8')) as { imports?: Record<string, string> };
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const pinned: Record<string, string> = { ...packageJson.devDependencies, ...packageJson.dependencies };
const imports = denoJson.imports ?? {};

/** npm:name@version or npm:/name@version/ → [name, version]. */
function parseNpmSpecifier(target: string): [string, string] | null {
  const match = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)\/?$/.exec(target);
  return match ? [match[1]!, match[2]!] : null;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('deno.json imports', () => {
  it('pin exactly the versions package.json pins', () => {
    const mismatches = Object.entries(imports).flatMap(([specifier, target]) => {
      const parsed = parseNpmSpecifier(target);
      if (!parsed) return [`${specifier} → ${target} is not an npm:name@version mapping`];
      const [name, version] = parsed;
      if (pinned[name] === undefined) return [`${specifier} → ${name}@${version}, which package.json does not list`];
      return pinned[name] === version ? [] : [`${specifier} → ${name}@${version}, package.json pins ${pinned[name]}`];
    });
    expect(mismatches).toEqual([]);
    expect(Object.keys(imports).length).toBeGreaterThan(0);
  });

  it('cover every bare import of the edge functions', () => {
    const missing = new Set<string>();
    for (const file of sourceFiles(join(root, 'functions'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:^|\s)(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
        const specifier = match[1] ?? match[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('npm:') || specifier.startsWith('jsr:') || specifier.startsWith('node:'))
          continue;
        const resolved = Object.keys(imports).some((key) => specifier === key || (key.endsWith('/') && specifier.startsWith(key)));
        if (!resolved) missing.add(`${specifier} (${file.slice(root.length)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
