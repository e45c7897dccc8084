import { SMALL_POLICY, smallPodReview } from '../workloads.mjs';
import type { Reply } from './apiserver-client.js';

/** What a created Pod must look like: its images in order (init containers first), and its pull secrets. */
export interface Expected {
  readonly images: readonly string[];
  readonly pullSecret: string;
  /** Whether the webhooks ran: images rewritten and the pull secret added, or the Pod as sent. */
  readonly rewritten: boolean;
}

export interface BenchPod {
  readonly name: string;
  readonly body: Buffer;
  readonly original: readonly string[];
  readonly mirrored: readonly string[];
  readonly pullSecret: string;
}

interface PodShape {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
  spec?: {
    initContainers?: { image?: string }[];
    containers?: { image?: string }[];
    imagePullSecrets?: { name?: string }[];
  };
}

const imagesOf = (pod: PodShape): string[] =>
  [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.image ?? '');

/** The bench policy's rewrite of an image: its longest mirror source that is a prefix. */
function mirrorOf(image: string): string {
  const mirror = SMALL_POLICY.spec.mirrors
    .filter((m) => image.startsWith(`${m.source}/`))
    .sort((a, b) => b.source.length - a.source.length)[0];
  return mirror ? `${mirror.mirror}${image.slice(mirror.source.length)}` : image;
}

/**
 * The bench's 8 KB Pod (`request.object` of bench/workloads.mjs' review: the captured Elasticsearch Pod with its
 * managedFields) in `namespace`, ready to POST. Its uid and resourceVersion go: a create may not carry them.
 */
export function benchPod(namespace: string): BenchPod {
  const pod = smallPodReview().request.object as PodShape & Record<string, unknown>;
  pod.metadata = { ...pod.metadata, namespace };
  delete pod.metadata.uid;
  delete pod.metadata.resourceVersion;
  // The init container raises vm.max_map_count as root with privileged: true, which the harness' apiserver forbids
  // (no --allow-privileged). It stays root; only that flag goes. The webhooks never look at it.
  for (const c of (pod.spec?.initContainers ?? []) as { securityContext?: { privileged?: boolean } }[]) {
    delete c.securityContext?.privileged;
  }
  const original = imagesOf(pod);
  const mirrored = original.map(mirrorOf);
  const host = mirrored[0]?.split('/')[0] ?? '';
  const pullSecret = SMALL_POLICY.spec.pullSecrets.find((p) => p.registry === host)?.secretName ?? '';
  if (original.length < 2 || mirrored.some((m, i) => m === original[i]) || pullSecret === '') {
    throw new Error(
      `the bench policy no longer rewrites every image of the bench Pod: ${original.join(', ')}`,
    );
  }
  return {
    name: pod.metadata.name ?? '',
    body: Buffer.from(JSON.stringify(pod)),
    original,
    mirrored,
    pullSecret,
  };
}

/** Null when the apiserver answered 201 with the Pod as expected; otherwise why not, in a few words. */
export function checkCreated(reply: Reply, expected: Expected): string | null {
  if (reply.status !== 201) return `HTTP ${reply.status}: ${reply.body.slice(0, 200)}`;
  let pod: PodShape;
  try {
    pod = JSON.parse(reply.body) as PodShape;
  } catch {
    return 'answer is not JSON';
  }
  const images = imagesOf(pod);
  if (images.join(' ') !== expected.images.join(' ')) return `images ${images.join(', ')}`;
  const secrets = (pod.spec?.imagePullSecrets ?? []).map((s) => s.name);
  if (secrets.includes(expected.pullSecret) !== expected.rewritten)
    return `imagePullSecrets [${secrets.join(', ')}]`;
  return null;
}
