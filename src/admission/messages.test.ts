import { describe, expect, it } from 'vitest';
import { evaluateImage, loadPolicyText } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import type { AdmissionRequest } from './review.js';
import { validate } from './validate.js';

const loaded = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  shortNames:
    aliases: {legacyui: gcr.io/old-vendor/ui, tools: registry.mycorp.com/tools/box}
  mirrors: [{source: docker.io, mirror: registry.mycorp.com/dockerhub}]
  registrySources: {allowedRegistries: [registry.mycorp.com]}
`);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const policy = loaded.policy;

function review(kind: 'Pod' | 'Deployment', image: string): AdmissionRequest {
  const spec = { containers: [{ name: 'ui', image }] };
  return {
    uid: 'u',
    kind: kind === 'Pod' ? { group: '', version: 'v1', kind } : { group: 'apps', version: 'v1', kind },
    subResource: '',
    operation: 'CREATE',
    namespace: 'shop',
    name: 'x',
    object: kind === 'Pod' ? { spec } : { spec: { template: { spec } } },
    oldObject: null,
    dryRun: false,
  };
}
const denial = (kind: 'Pod' | 'Deployment', image: string): string =>
  validate(policy, review(kind, image), 'enforce').response.status?.message ?? '';

describe('a denial names what a short name resolved to', () => {
  it('a Pod with an aliased short name: the alias target as explain says it, and what a runtime without aliases pulls', () => {
    const message = denial('Pod', 'legacyui:4');
    // What `explain` prints as `resolved`.
    const resolved = evaluateImage(policy, 'legacyui:4', { judge: 'final' }).resolved;
    expect(resolved && formatReference(resolved)).toBe('gcr.io/old-vendor/ui:4');
    expect(message).toContain(
      'spec.containers[0] "ui": image "legacyui:4" resolves to gcr.io/old-vendor/ui:4 through the policy\'s shortNames, ' +
        'but as written a runtime without them pulls docker.io/library/legacyui:4, which is not in registrySources.allowedRegistries',
    );
  });

  it('a template is judged as its Pods will be: the alias target alone', () => {
    expect(denial('Deployment', 'legacyui:4')).toContain(
      'spec.template.spec.containers[0] "ui": image "legacyui:4" resolves to gcr.io/old-vendor/ui:4, which is not in registrySources.allowedRegistries',
    );
  });

  it('an alias to an allowed registry is the fix for a Pod that kept its short name', () => {
    expect(denial('Pod', 'tools:2')).toMatch(/; use registry\.mycorp\.com\/tools\/box:2$/);
  });

  it('a short name on Docker Hub reads as before', () => {
    expect(denial('Pod', 'busybox')).toContain(
      'image "busybox" resolves to docker.io/library/busybox, which is not in registrySources.allowedRegistries; use registry.mycorp.com/dockerhub/library/busybox',
    );
  });
});
