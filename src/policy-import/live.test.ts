import { describe, expect, it } from 'vitest';
import { loadPolicyText } from '../policy/index.js';
import { mergeClusterSources } from './live.js';

const base = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata: {name: live}
spec:
  mode: enforce
  mirrors:
    - {source: docker.io, mirror: registry.corp.io/hub, verify: enforce, pin: digest, onError: deny}
  sources: {openshift: true}
`;
const idms = (name: string, source: string, mirror: string, policy?: string) => ({
  apiVersion: 'config.openshift.io/v1',
  kind: 'ImageDigestMirrorSet',
  metadata: { name, resourceVersion: '12', uid: 'u', managedFields: [] },
  spec: {
    imageDigestMirrors: [{ source, mirrors: [mirror], ...(policy ? { mirrorSourcePolicy: policy } : {}) }],
  },
});
const image = (registrySources: Record<string, unknown>) => ({
  apiVersion: 'config.openshift.io/v1',
  kind: 'Image',
  metadata: { name: 'cluster' },
  spec: { registrySources },
  status: { internalRegistryHostname: 'image-registry.openshift-image-registry.svc:5000' },
});

function merged(objects: unknown[]) {
  const result = mergeClusterSources(base, objects);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  const loaded = loadPolicyText(result.text);
  return { text: result.text, loaded };
}

describe('mergeClusterSources (the live merge, without a cluster)', () => {
  it('with no cluster objects, the policy file alone decides', () => {
    const { loaded } = merged([]);
    expect(loaded.ok && loaded.policy.spec.mirrors.map((m) => m.source)).toEqual(['docker.io']);
  });

  it('adds an IDMS after the file mirrors, naming the cluster object; the file keeps its verification', () => {
    const { loaded, text } = merged([
      idms('payload', 'quay.io/openshift-payload', 'registry.corp.io/payload'),
    ]);
    const unverified = { verify: 'off', pin: 'none', onError: 'allow' };
    expect(loaded.ok && loaded.policy.spec.mirrors).toEqual([
      {
        source: 'docker.io',
        mirror: 'registry.corp.io/hub',
        digestOnly: false,
        tagOnly: false,
        verify: 'enforce',
        pin: 'digest',
        onError: 'deny',
      },
      {
        source: 'quay.io/openshift-payload',
        mirror: 'registry.corp.io/payload',
        digestOnly: true,
        tagOnly: false,
        ...unverified,
      },
    ]);
    expect(text).toContain(
      '# origin: ImageDigestMirrorSet/payload (cluster) spec.imageDigestMirrors[0].mirrors[0]',
    );
  });

  it('gives the same text whatever order the informers list objects in', () => {
    const a = idms('a', 'quay.io/a', 'registry.corp.io/a');
    const b = idms('b', 'quay.io/b', 'registry.corp.io/b');
    expect(merged([a, b]).text).toBe(merged([b, a]).text);
  });

  it('takes blockedRegistries from Image/cluster', () => {
    const { loaded } = merged([image({ blockedRegistries: ['untrusted.com'] })]);
    expect(loaded.ok && loaded.policy.spec.registrySources.blockedRegistries).toEqual(['untrusted.com']);
  });

  it('an Image with both lists maps, but the policy it gives is rejected (the store keeps the last good one)', () => {
    const { loaded } = merged([image({ allowedRegistries: ['a.io'], blockedRegistries: ['b.io'] })]);
    expect(loaded.ok).toBe(false);
  });

  it('a malformed object is an error naming it', () => {
    const bad = {
      ...idms('x', 'q.io', 'm.io'),
      spec: { imageDigestMirrors: [{ source: 'q.io', mirrors: 'm.io' }] },
    };
    const result = mergeClusterSources(base, [bad]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.join()).toMatch(
      /ImageDigestMirrorSet\/x \(cluster\) spec.imageDigestMirrors\[0\].mirrors: must be a list/,
    );
  });
});

describe('one cluster object never stops the gate from following the others', () => {
  it('a wildcard IDMS beside a valid one: the valid one applies, the wildcard entry is dropped and counted', () => {
    const result = mergeClusterSources(base, [
      idms('wild', '*.example.com', 'registry.corp.io/any'),
      idms('payload', 'quay.io/openshift-payload', 'registry.corp.io/payload'),
    ]);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const loaded = loadPolicyText(result.text);
    expect(loaded.ok ? loaded.policy.spec.mirrors.map((m) => m.source) : loaded.errors).toEqual([
      'docker.io',
      'quay.io/openshift-payload',
    ]);
    expect(result.dropped).toEqual([expect.stringMatching(/ImageDigestMirrorSet\/wild .*wildcard source/)]);
  });
});
