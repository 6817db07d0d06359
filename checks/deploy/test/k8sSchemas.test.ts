// Every Kubernetes object in deploy/k8s against the API's JSON schema, offline: kubernetes-models
// validates each object with the schema bundled for its apiVersion/kind (Kubernetes 1.3x).
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, test } from 'vitest';
import { yamlFile, k8sManifestFiles, k8sObjects, type K8sObject } from './helpers/deployFiles.js';

interface Validating {
  validate(): void;
}
const models: Record<string, new (data: any) => Validating> = {
  'apps/v1 StatefulSet': StatefulSet,
  'v1 Service': Service,
  'v1 Secret': Secret,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
};

/** The schema's verdict: null when valid, else its message. */
function schemaErrors(object: K8sObject): string | null {
  const Model = models[`${object.apiVersion} ${object.kind}`];
  if (!Model) return `no schema known here for ${object.apiVersion} ${object.kind}`;
  try {
    new Model(object).validate();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('deploy/k8s against the Kubernetes schemas', () => {
  const objects = k8sObjects();

  test('the manifests hold the five objects of the deployment', () => {
    expect(objects.map(({ object }) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'PodDisruptionBudget/raftkit',
      'Secret/raftkit-secret',
      'Service/raftkit',
      'Service/raftkit-peers',
      'StatefulSet/raftkit',
    ]);
  });

  test.each(objects.map(({ file, object }) => [`${object.kind}/${object.metadata.name} (${file})`, object] as const))('%s is valid', (_name, object) => {
    expect(schemaErrors(object)).toBeNull();
  });

  test('namespace-agnostic: no object names a namespace', () => {
    for (const { object } of objects) expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBeUndefined();
  });

  test('kustomization.yaml lists every manifest, and only those', () => {
    const k = yamlFile('deploy/k8s/kustomization.yaml') as { kind: string; resources: string[]; namespace?: string };
    expect(k.kind).toBe('Kustomization');
    expect(k.namespace).toBeUndefined();
    expect([...k.resources].sort()).toEqual(k8sManifestFiles());
  });

  // The validator must be able to say no, or the tests above show nothing.
  test.each([
    ['a port that is not a number', (o: any) => (o.spec.template.spec.containers[0].ports[0].containerPort = 'seven thousand')],
    ['replicas as a string', (o: any) => (o.spec.replicas = '3')],
    ['a probe port that is an object', (o: any) => (o.spec.template.spec.containers[0].readinessProbe.httpGet.port = { name: 'raft' })],
    ['a container name that is a number', (o: any) => (o.spec.template.spec.containers[0].name = 7)],
  ])('a StatefulSet with %s is refused', (_what, damage) => {
    const sts = structuredClone(objects.find(({ object }) => object.kind === 'StatefulSet')!.object);
    damage(sts);
    expect(schemaErrors(sts)).toMatch(/must be/);
  });
});
