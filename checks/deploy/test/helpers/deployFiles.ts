/** The files under deploy/ at the repository root, read and parsed. */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const deployDir = join(repoRoot, 'deploy');
export const k8sDir = join(deployDir, 'k8s');

export function read(relative: string): string {
  return readFileSync(join(repoRoot, relative), 'utf8');
}

/** One YAML document as plain data; YAML errors (and warnings) fail loudly, naming the file. */
export function yamlFile(relative: string): unknown {
  const doc = parseDocument(read(relative), { merge: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(`${relative}: ${problems.map((e) => e.message).join('; ')}`);
  return doc.toJS({ maxAliasCount: 100 });
}

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: any;
}

/** Every object of every manifest under deploy/k8s (multi-document files included), with its file. */
export function k8sObjects(): Array<{ file: string; object: K8sObject }> {
  const out: Array<{ file: string; object: K8sObject }> = [];
  for (const name of k8sManifestFiles()) {
    const file = `deploy/k8s/${name}`;
    for (const doc of parseAllDocuments(read(file), { prettyErrors: true }) as ReturnType<typeof parseAllDocuments> & unknown[]) {
      if (!('errors' in doc)) throw new Error(`${file}: not a YAML document`);
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as K8sObject | null;
      if (object !== null) out.push({ file, object });
    }
  }
  return out;
}

/** The manifests (every .yaml but kustomization.yaml). */
export function k8sManifestFiles(): string[] {
  return readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
}

/** The one object of `kind` named `name` (or the only one of its kind); fails if not exactly one. */
export function one(kind: string, name?: string): K8sObject {
  const found = k8sObjects().map((o) => o.object).filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''} in deploy/k8s, found ${found.length}`);
  return found[0]!;
}
