// The benchmark's request bodies and policies, built from the real captured AdmissionReview in
// test/fixtures/admission/pod-create.json so the server parses what an apiserver really sends.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fixture = (name) =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../test/fixtures/admission/${name}`, import.meta.url)), 'utf8'),
  );

/**
 * managedFields in the FieldsV1 form the apiserver writes: every field of the object as `f:<name>`, list items with
 * a name as `k:{"name":…}`. The fixture's publisher trimmed them; real requests since 1.18 carry them, and they are
 * what brings a plain Pod to the ~8 KB the issue asks for.
 */
function fieldsV1(value) {
  if (Array.isArray(value)) {
    const out = {};
    for (const item of value) {
      if (item && typeof item === 'object' && typeof item.name === 'string') {
        out[`k:${JSON.stringify({ name: item.name })}`] = { '.': {}, ...fieldsV1(item) };
      }
    }
    return out;
  }
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[`f:${k}`] = fieldsV1(v);
    return out;
  }
  return {};
}

function withManagedFields(pod) {
  const { metadata, spec } = pod;
  return {
    ...pod,
    metadata: {
      ...metadata,
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2021-09-12T10:04:41Z',
          fieldsType: 'FieldsV1',
          fieldsV1: fieldsV1({
            metadata: { labels: metadata.labels, ownerReferences: metadata.ownerReferences },
            spec: { initContainers: spec.initContainers, containers: spec.containers },
          }),
        },
      ],
    },
  };
}

/** The small Pod: the captured Elasticsearch StatefulSet Pod (init container + container: two images to rewrite). */
export function smallPodReview() {
  const review = fixture('pod-create.json');
  review.request.object = withManagedFields(review.request.object);
  return review;
}

/** Images of the 50-container Pod: every one allowed by the bench policy, most rewritten to the mirror. */
const LARGE_POD_IMAGES = [
  'nginx:1.27.2',
  'docker.io/library/redis:7.4',
  'quay.io/prometheus/node-exporter:v1.8.2',
  'docker.elastic.co/elasticsearch/elasticsearch:7.14.0',
  'registry.mycorp.com/dockerhub/library/busybox:1.36',
  'quay.io/jetstack/cert-manager-controller@sha256:0a2f1d4b8f3c5e6a7b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a',
  'build.corp.example.com/team/app:2024.11',
];

/** The 50-container Pod (~130 KB): the fixture's container, 50 times under other names and images. */
export function largePodReview() {
  const review = fixture('pod-create.json');
  const pod = review.request.object;
  const template = pod.spec.containers[0];
  // Sidecar-sized containers: the fixture's, without its 2 KB readiness script.
  const lean = { ...template };
  delete lean.readinessProbe;
  pod.spec.containers = Array.from({ length: 50 }, (_, i) => ({
    ...structuredClone(lean),
    name: `worker-${i}`,
    image: LARGE_POD_IMAGES[i % LARGE_POD_IMAGES.length],
  }));
  review.request.object = withManagedFields(pod);
  return review;
}

/** The policy of examples/mycorp-policy.yaml plus a mirror for docker.elastic.co (the small Pod's registry). */
export const SMALL_POLICY = {
  apiVersion: 'registry-gate.io/v1alpha1',
  kind: 'RegistryPolicy',
  metadata: { name: 'bench-small' },
  spec: {
    mode: 'enforce',
    shortNames: { registry: 'docker.io', aliases: { 'rhel7/etcd': 'registry.access.redhat.com/rhel7/etcd' } },
    mirrors: [
      { source: 'docker.io', mirror: 'registry.mycorp.com/dockerhub' },
      { source: 'quay.io', mirror: 'registry.mycorp.com/quay' },
      { source: 'docker.elastic.co', mirror: 'registry.mycorp.com/elastic' },
      { source: 'registry.access.redhat.com', mirror: 'registry.mycorp.com/redhat' },
    ],
    registrySources: {
      allowedRegistries: ['registry.mycorp.com', '*.corp.example.com', 'reg1.io/myrepo/myapp:latest'],
      insecureRegistries: [],
    },
    pullSecrets: [{ registry: 'registry.mycorp.com', secretName: 'mycorp-pull' }],
    exemptions: { namespaces: ['registry-mirror'], images: [] },
  },
};

/**
 * The small policy grown to 10,000 rules of every kind (hosts, wildcards, repositories, mirrors by host and by
 * repository, pull secrets, exempt namespaces and images, aliases). None of the extra rules matches the bench Pods,
 * so both policies reach the same decisions and only the rule count differs.
 */
export function largePolicy(total = 10_000) {
  const spec = structuredClone(SMALL_POLICY.spec);
  const per = Math.floor(total / 10);
  for (let i = 0; i < per; i++) {
    spec.mirrors.push({ source: `src-${i}.example.org`, mirror: `registry.mycorp.com/host-${i}` });
    spec.mirrors.push({ source: `ghcr.io/org-${i}`, mirror: `registry.mycorp.com/ghcr-org-${i}` });
    spec.registrySources.allowedRegistries.push(`reg-${i}.example.net`);
    spec.registrySources.allowedRegistries.push(`*.team-${i}.example.net`);
    spec.registrySources.allowedRegistries.push(`reg1.io/repo-${i}/app:latest`);
    spec.pullSecrets.push({ registry: `reg-${i}.example.net`, secretName: `pull-${i}` });
    spec.pullSecrets.push({ registry: `registry.mycorp.com/host-${i}`, secretName: `mirror-pull-${i}` });
    spec.exemptions.namespaces.push(`exempt-${i}`);
    spec.exemptions.images.push(`reg-${i}.example.net/exempt/app`);
    spec.shortNames.aliases[`alias-${i}/app`] = `reg-${i}.example.net/alias/app`;
  }
  return { ...SMALL_POLICY, metadata: { name: 'bench-10k-rules' }, spec };
}

/** Number of rules in a policy, counted the way the issue counts them (every list entry and alias). */
export function ruleCount(policy) {
  const s = policy.spec;
  return (
    s.mirrors.length +
    s.registrySources.allowedRegistries.length +
    s.registrySources.insecureRegistries.length +
    s.pullSecrets.length +
    s.exemptions.namespaces.length +
    s.exemptions.images.length +
    Object.keys(s.shortNames.aliases).length
  );
}
