/**
 * The environment a container of a pod template gets, as the kubelet builds it: `value`s with
 * `$(VAR)` references to variables defined before them expanded, `fieldRef: metadata.name` the
 * pod's name, `secretKeyRef` the Secret's value (from the manifests). Anything else fails.
 */
import type { K8sObject } from './deployFiles.js';

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}

export function secretValue(secrets: readonly K8sObject[], name: string, key: string): string {
  const s = secrets.find((o) => o.kind === 'Secret' && o.metadata.name === name);
  if (!s) throw new Error(`secretKeyRef names Secret ${name}, which deploy/k8s does not define`);
  const v = s['stringData']?.[key] ?? (s['data']?.[key] !== undefined ? Buffer.from(String(s['data'][key]), 'base64').toString('utf8') : undefined);
  if (v === undefined) throw new Error(`Secret ${name} has no key ${key}`);
  return String(v);
}

export function containerEnv(env: readonly EnvVar[], podName: string, secrets: readonly K8sObject[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of env) {
    if (v.value !== undefined) out[v.name] = v.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref, name: string) => out[name] ?? ref);
    else if (v.valueFrom?.fieldRef?.fieldPath === 'metadata.name') out[v.name] = podName;
    else if (v.valueFrom?.secretKeyRef) out[v.name] = secretValue(secrets, v.valueFrom.secretKeyRef.name, v.valueFrom.secretKeyRef.key);
    else throw new Error(`env ${v.name}: a source these checks do not model: ${JSON.stringify(v.valueFrom)}`);
  }
  return out;
}
