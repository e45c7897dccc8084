import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { BUSYBOX_UPSTREAM, gateImageInMirror } from './node-images.js';
import type { NodeClusterInfo } from './node-cluster.js';
import { repoRoot } from './gate.js';
import { ok, type Kubectl } from './kubectl.js';
import { waitFor } from './process.js';

/** The gate's namespace, as the manifests name it. */
export const GATE_NAMESPACE = 'registry-gate-system';

type Cluster = NodeClusterInfo & { readonly kubectl: Kubectl };

export interface PodStatus {
  metadata: { name: string };
  spec: { containers: { image: string }[]; imagePullSecrets?: { name: string }[] };
  status: {
    phase?: string;
    podIP?: string;
    containerStatuses?: { imageID?: string; state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

/**
 * The policy of the node tests: docker.io (short names included) rewritten to the mirror's `dockerhub/` copy,
 * only the mirror allowed, its pull secret injected. `extra` lines are added under `spec:`.
 */
export function mirrorPolicy(mirror: string, extra: readonly string[] = []): string {
  return [
    'apiVersion: registry-gate.io/v1alpha1',
    'kind: RegistryPolicy',
    'metadata: {name: e2e-node}',
    'spec:',
    '  mode: enforce',
    '  mirrors:',
    `    - {source: docker.io, mirror: "${mirror}/dockerhub"}`,
    '  registrySources:',
    `    allowedRegistries: ["${mirror}"]`,
    ...extra,
    '',
  ].join('\n');
}

/**
 * An e2e overlay of `overlay` (manifests/overlays/self-signed or one built on it): its only changes are those a one-node cluster with a private
 * mirror needs (DESIGN.md, "In-cluster install on a one-node test cluster"): the image, two replicas, the mirror's
 * pull secret on the gate's ServiceAccounts, and the policy.
 */
export async function writeInstallOverlay(
  cluster: Cluster,
  name: string,
  overlay: string,
  policyYaml: string,
  /** More kustomize patches, for tests beyond the plain install (the install itself may not need any). */
  extraPatches: readonly object[] = [],
): Promise<string> {
  const dir = join(cluster.work, `overlay-${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'policy.yaml'), policyYaml);
  const [imageName, tag] = gateImageInMirror(cluster.mirror).split(/:(?=[^:/]+$)/);
  const pullSecret = (sa: string): object => ({
    target: { kind: 'ServiceAccount', name: sa },
    patch: JSON.stringify([{ op: 'add', path: '/imagePullSecrets', value: [{ name: 'mirror-pull' }] }]),
  });
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [relative(dir, join(repoRoot, overlay))],
    images: [{ name: 'ghcr.io/registry-gate/registry-gate', newName: imageName, newTag: tag }],
    patches: [
      {
        target: { kind: 'Deployment', name: 'registry-gate' },
        patch: JSON.stringify([{ op: 'replace', path: '/spec/replicas', value: 2 }]),
      },
      {
        target: { kind: 'HorizontalPodAutoscaler', name: 'registry-gate' },
        patch: JSON.stringify([{ op: 'replace', path: '/spec/minReplicas', value: 2 }]),
      },
      pullSecret('registry-gate'),
      pullSecret('registry-gate-certs'),
      ...extraPatches,
    ],
    configMapGenerator: [
      {
        name: 'registry-gate-policy',
        namespace: GATE_NAMESPACE,
        behavior: 'replace',
        files: ['policy.yaml'],
        options: { disableNameSuffixHash: true },
      },
    ],
  };
  await writeFile(join(dir, 'kustomization.yaml'), JSON.stringify(kustomization, null, 2));
  return dir;
}

export async function createPullSecret(cluster: Cluster, namespace: string): Promise<void> {
  const secret = await ok(
    cluster.kubectl([
      'create',
      'secret',
      'docker-registry',
      'mirror-pull',
      `--namespace=${namespace}`,
      `--docker-server=${cluster.mirror}`,
      `--docker-username=${cluster.mirrorUser}`,
      `--docker-password=${cluster.mirrorPassword}`,
      '--dry-run=client',
      '-o=json',
    ]),
  );
  await ok(cluster.kubectl(['apply', '-f', '-'], { input: secret }));
}

export async function pod(kubectl: Kubectl, namespace: string, name: string): Promise<PodStatus> {
  return JSON.parse(await ok(kubectl(['get', 'pod', name, '-n', namespace, '-o', 'json']))) as PodStatus;
}

export async function gatePods(kubectl: Kubectl): Promise<PodStatus[]> {
  const out = await ok(
    kubectl(['get', 'pods', '-n', GATE_NAMESPACE, '-l', 'app.kubernetes.io/component=webhook', '-o', 'json']),
  );
  return (JSON.parse(out) as { items: PodStatus[] }).items;
}

/** Waits for a Pod's first container to be waiting on an image pull that failed; returns that message. */
export async function pullFailure(kubectl: Kubectl, namespace: string, name: string): Promise<string> {
  return waitFor(
    `${namespace}/${name} to fail its pull`,
    async () => {
      const waiting = (await pod(kubectl, namespace, name)).status.containerStatuses?.[0]?.state?.waiting;
      return waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff'
        ? (waiting.message ?? '')
        : undefined;
    },
    120_000,
    500,
  );
}

/**
 * Applies an e2e overlay with `kubectl apply -k` and waits as an administrator would: the certs Job completes and the
 * gate's Deployment is rolled out. The gate's namespace and the mirror's pull secret in it must exist first.
 */
export async function applyInstall(kubectl: Kubectl, overlayDir: string): Promise<void> {
  await ok(kubectl(['apply', '-k', overlayDir]));
  await waitForInstall(kubectl);
}

/** The certs Job completed and the gate's Deployment rolled out (after an install or a change of it). */
export async function waitForInstall(kubectl: Kubectl): Promise<void> {
  const wait = { timeoutMs: 200_000 };
  await ok(
    kubectl(
      ['wait', '-n', GATE_NAMESPACE, '--for=condition=Complete', 'job/registry-gate-certs', '--timeout=180s'],
      wait,
    ),
  );
  await ok(
    kubectl(['rollout', 'status', '-n', GATE_NAMESPACE, 'deployment/registry-gate', '--timeout=180s'], wait),
  );
}

/** `kubectl create deployment web --image=busybox:1.36 -- sleep 3600` in `namespace`, rolled out; returns its Pod. */
export async function runBusyboxDeployment(kubectl: Kubectl, namespace: string): Promise<PodStatus> {
  const create = ['create', 'deployment', 'web', '-n', namespace, `--image=${BUSYBOX_UPSTREAM}`];
  await ok(kubectl([...create, '--', 'sleep', '3600']));
  await ok(
    kubectl(['rollout', 'status', '-n', namespace, 'deployment/web', '--timeout=120s'], {
      timeoutMs: 150_000,
    }),
  );
  const out = await ok(kubectl(['get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'json']));
  const pods = (JSON.parse(out) as { items: PodStatus[] }).items;
  if (pods.length !== 1)
    throw new Error(`expected one Pod of deployment/web in ${namespace}, found ${pods.length}`);
  return pods[0]!;
}
