// What the schemas cannot say: the pieces of deploy/k8s fit each other and the server. Each
// pod's environment is built as the kubelet would and given to the server's own config loader.
import { loadConfig } from '@raftkit/server/dist/index.js';
import { describe, expect, test } from 'vitest';
import { k8sObjects, one } from './helpers/deployFiles.js';
import { containerEnv } from './helpers/podEnv.js';

const objects = k8sObjects().map((o) => o.object);
const sts = one('StatefulSet');
const pod = sts['spec'].template.spec;
const container = pod.containers.find((c: { name: string }) => c.name === 'raftkit');
const selector: Record<string, string> = sts['spec'].selector.matchLabels;
const portOf = (name: string | number): number => (typeof name === 'number' ? name : container.ports.find((p: { name: string }) => p.name === name)?.containerPort);
const podNames = Array.from({ length: sts['spec'].replicas as number }, (_, i) => `${sts.metadata.name}-${i}`);
const envOf = (podName: string) => containerEnv(container.env, podName, objects);
const matches = (labels: Record<string, string> | undefined) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe('the StatefulSet', () => {
  test('three replicas, started together, labels matching its selector', () => {
    expect(sts['spec'].replicas).toBe(3);
    // OrderedReady would wait for raftkit-0 to be ready, which it cannot be alone.
    expect(sts['spec'].podManagementPolicy).toBe('Parallel');
    expect(matches(sts['spec'].template.metadata.labels)).toBe(true);
  });

  test('probes: readiness on /readyz, liveness (and startup) on /healthz, on the port the server listens on', () => {
    const listenPort = Number(envOf(podNames[0]!)['RAFTKIT_LISTEN']!.split(':').pop());
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) expect(portOf(probe.httpGet.port)).toBe(listenPort);
  });

  test('a PersistentVolumeClaim per pod, mounted where the server keeps its data', () => {
    const claims = sts['spec'].volumeClaimTemplates as Array<{ metadata: { name: string }; spec: { accessModes: string[] } }>;
    expect(claims).toHaveLength(1);
    expect(claims[0]!.spec.accessModes).toEqual(['ReadWriteOnce']);
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === claims[0]!.metadata.name);
    expect(mount?.mountPath).toBe(envOf(podNames[0]!)['RAFTKIT_DATA']);
  });

  test('runs as the image\'s non-root user, and the volume is writable by it (fsGroup)', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 });
  });

  test('terminationGracePeriodSeconds covers a leadership transfer and the drain of a stopping leader', () => {
    // Worst case with the defaults (apps/server shutdown): transfer <= one election timeout (0.5 s),
    // drain 0.5 s, requests in flight <= --request-timeout-ms (5 s), then stop and close RocksDB.
    const cfg = loadConfig([], envOf(podNames[0]!));
    const worstS = (cfg['electionTicks'] as number) * (cfg['tickMs'] as number) / 1000 + 0.5 + (cfg['requestTimeoutMs'] as number) / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(3 * worstS);
  });

  test('the cluster secret comes from the Secret in deploy/k8s', () => {
    const ref = container.env.find((e: { name: string }) => e.name === 'RAFTKIT_SECRET')?.valueFrom?.secretKeyRef;
    expect(ref).toBeDefined();
    const secret = one('Secret', ref.name);
    expect(Object.keys({ ...secret['stringData'], ...secret['data'] })).toContain(ref.key);
  });

  test.each(podNames)('pod %s: the server accepts its configuration, its id is its name, its peers are the other pods', (name) => {
    const cfg = loadConfig([], envOf(name));
    expect(cfg.id).toBe(name);
    expect(cfg.join).toBeNull();
    expect(cfg.listen).toEqual({ host: '0.0.0.0', port: portOf('raft') });
    const peersService = sts['spec'].serviceName as string;
    const urlOf = (p: string) => `http://${p}.${peersService}:${portOf('raft')}`;
    expect(cfg.selfUrl).toBe(urlOf(name));
    expect(cfg.peers).toEqual(Object.fromEntries(podNames.filter((p) => p !== name).map((p) => [p, urlOf(p)])));
  });

  test('a pod past the list (the StatefulSet scaled to 4) joins through the client Service at its own URL', () => {
    const cfg = loadConfig([], envOf(`${sts.metadata.name}-3`));
    expect(cfg.join).toBe(`http://${one('Service', 'raftkit').metadata.name}:${one('Service', 'raftkit')['spec'].ports[0].port}`);
    expect(cfg.selfUrl).toBe(`http://${sts.metadata.name}-3.${sts['spec'].serviceName}:${portOf('raft')}`);
    expect(cfg.peers).toEqual({});
  });
});

describe('the Services', () => {
  test('the headless Service is the StatefulSet\'s serviceName and publishes pods before they are ready', () => {
    const peers = one('Service', sts['spec'].serviceName);
    expect(peers['spec'].clusterIP).toBe('None');
    expect(peers['spec'].publishNotReadyAddresses).toBe(true);
    expect(matches(peers['spec'].selector)).toBe(true);
  });

  test('both Services target the server\'s port; the client one only ready pods', () => {
    for (const s of objects.filter((o) => o.kind === 'Service')) {
      expect(matches(s['spec'].selector), s.metadata.name).toBe(true);
      for (const p of s['spec'].ports) expect(portOf(p.targetPort), `${s.metadata.name} ${p.name}`).toBe(portOf('raft'));
    }
    expect(one('Service', 'raftkit')['spec'].publishNotReadyAddresses ?? false).toBe(false);
  });
});

describe('the PodDisruptionBudget', () => {
  test('keeps a majority of the voters (2 of 3) through voluntary disruptions', () => {
    const pdb = one('PodDisruptionBudget');
    expect(pdb['spec'].minAvailable).toBe(Math.floor((sts['spec'].replicas as number) / 2) + 1);
    expect(pdb['spec'].minAvailable).toBe(2);
    expect(pdb['spec'].selector.matchLabels).toEqual(selector);
  });
});
