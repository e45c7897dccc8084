import { describe, inject } from 'vitest';
import type { ControlPlaneInfo } from './control-plane.js';
import { kubectlFor, ok, type Kubectl } from './kubectl.js';
import type { NodeClusterInfo } from './node-cluster.js';
import { waitFor } from './process.js';

export { startGate, repoRoot, writeE2EOverlay, type Gate, type GateOptions } from './gate.js';
export { ok, stderrBesidesSortNote, type Kubectl, type Run } from './kubectl.js';
export { waitFor } from './process.js';

export interface Cluster extends ControlPlaneInfo {
  readonly kubectl: Kubectl;
}

const context = inject('e2e');

/** Why the e2e tests cannot run here, or null when the control plane is up. */
export const skipReason: string | null = 'skip' in context ? context.skip : null;

/** describe() for tests that need the control plane: skipped, with the reason in its title, when there is none. */
export const describeE2E = (name: string, body: () => void): void => {
  if (skipReason === null) describe(name, body);
  else describe.skip(`${name} (skipped: ${skipReason})`, body);
};

/** The control plane started by the globalSetup, with kubectl bound to its admin kubeconfig. */
export function cluster(): Cluster {
  if (!('controlPlane' in context)) throw new Error(`no control plane: ${context.skip}`);
  const info = context.controlPlane;
  return { ...info, kubectl: kubectlFor(info.assets, info.kubeconfig) };
}

/**
 * A fresh namespace with `labels`, ready for Pods: the controller-manager has created its `default`
 * ServiceAccount, without which the ServiceAccount admission plugin refuses every Pod.
 */
export async function createNamespace(
  kubectl: Kubectl,
  name: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
  await ok(kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) }));
  await waitFor(
    `ServiceAccount ${name}/default`,
    async () =>
      (await kubectl(['get', 'serviceaccount', 'default', '-n', name])).code === 0 ? true : undefined,
    30_000,
  );
  return name;
}
export { transcript, expectDocumentedTranscript, withoutVolatileParts } from './transcripts.js';

const nodeContext = inject('e2eNode');

/** Why the node tests cannot run here, or null when the node cluster is up. */
export const nodeSkipReason: string | null = 'skip' in nodeContext ? nodeContext.skip : null;

/** describe() for tests that need the real node, the mirror and registry-gate's image. */
export const describeNode = (name: string, body: () => void): void => {
  if (nodeSkipReason === null) describe(name, body);
  else describe.skip(`${name} (skipped: ${nodeSkipReason})`, body);
};

export interface NodeCluster extends NodeClusterInfo {
  readonly kubectl: Kubectl;
}

/** The node cluster started by the globalSetup, with kubectl run inside its network namespace. */
export function nodeCluster(): NodeCluster {
  if (!('node' in nodeContext)) throw new Error(`no node cluster: ${nodeContext.skip}`);
  const info = nodeContext.node;
  const namespaced = ['nsenter', `--net=/proc/${info.namespacePid}/ns/net`, '--'];
  return { ...info, kubectl: kubectlFor(info.assets, info.kubeconfig, namespaced) };
}
