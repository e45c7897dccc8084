import { describe, expect, it } from 'vitest';
import { loadPolicyText } from '../policy/index.js';
import { mutate } from './mutate.js';
import type { AdmissionRequest } from './review.js';

const loaded = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors: [{source: docker.io, mirror: registry.mycorp.com/dockerhub}]
  registrySources: {allowedRegistries: [registry.mycorp.com, quay.io]}
  pullSecrets:
    - {registry: registry.mycorp.com, secretName: mycorp-pull, from: {namespace: registry-gate-system, name: mycorp-pull}}
`);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const policy = loaded.policy;

const podRequest = (kind: string, image: string): AdmissionRequest => {
  const spec = { containers: [{ name: 'app', image }] };
  return {
    uid: 'u1',
    kind: { group: kind === 'Pod' ? '' : 'apps', version: 'v1', kind },
    subResource: '',
    operation: 'CREATE',
    namespace: 'team-a',
    name: 'x',
    object:
      kind === 'Pod' ? { metadata: {}, spec } : { metadata: {}, spec: { template: { metadata: {}, spec } } },
    oldObject: null,
    dryRun: false,
  };
};

describe('a Pod admitted where its pull secret copy is missing gets a warning', () => {
  it.each([
    ['Pod, copy missing', 'Pod', 'nginx', ['team-a/mycorp-pull'], 1],
    ['Pod, copy present', 'Pod', 'nginx', [], 0],
    ['Pod, copy missing in another namespace only', 'Pod', 'nginx', ['team-b/mycorp-pull'], 0],
    ['Pod that needs no pull secret', 'Pod', 'quay.io/org/app', ['team-a/mycorp-pull'], 0],
    ['Deployment, copy missing', 'Deployment', 'nginx', ['team-a/mycorp-pull'], 1],
  ])('%s', (_name, kind, image, missing, count) => {
    const outcome = mutate(policy, podRequest(kind, image), 'enforce', {
      missingPullSecrets: new Set(missing),
    });
    const warnings = (outcome.response.warnings ?? []).filter((w) => w.includes('is not in namespace'));
    expect(warnings).toHaveLength(count);
    expect(outcome.response.allowed).toBe(true);
  });

  it('still injects the secret (it will work once the copy lands)', () => {
    const outcome = mutate(policy, podRequest('Pod', 'nginx'), 'enforce', {
      missingPullSecrets: new Set(['team-a/mycorp-pull']),
    });
    const patch = JSON.parse(Buffer.from(outcome.response.patch ?? '', 'base64').toString()) as unknown[];
    expect(patch).toContainEqual({
      op: 'add',
      path: '/spec/imagePullSecrets',
      value: [{ name: 'mycorp-pull' }],
    });
  });
});
