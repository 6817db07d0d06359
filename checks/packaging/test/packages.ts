import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');

export interface PublicPackage {
  readonly name: string;
  readonly dir: string;
}

/** Every `packages/*` whose package.json is not `"private": true`, sorted by name. */
export function publicPackages(): PublicPackage[] {
  const root = join(repoRoot, 'packages');
  return readdirSync(root)
    .map((d) => join(root, d))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; private?: boolean } }))
    .filter(({ pkg }) => pkg.private !== true)
    .map(({ dir, pkg }) => ({ name: pkg.name, dir }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every file path a package.json points at: main, module, types, typesVersions and each exports target. */
export function referencedFiles(pkg: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string') out.add(v.replace(/^\.\//, ''));
    else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === 'object') Object.values(v).forEach(add);
  };
  for (const field of ['main', 'module', 'types', 'typings', 'exports', 'typesVersions']) add(pkg[field]);
  return [...out].filter((p) => !p.includes('*')).sort();
}
