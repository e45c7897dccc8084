import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicyText, type CompiledPolicy } from '../policy/index.js';
import { auditObjects, flattenDocument, type InputObject } from './index.js';

const policyText = readFileSync(new URL('../../examples/mycorp-policy.yaml', import.meta.url), 'utf8');
const loaded = loadPolicyText(policyText);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const policy: CompiledPolicy = loaded.policy;

const objects = (...items: Record<string, unknown>[]): InputObject[] =>
  items.map((object, i) => ({ object, source: `test:${i}` }));

function pod(name: string, image: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', ...extra },
    spec: { containers: [{ name: 'main', image }] },
  };
}

function owned(uid: string, owner?: [string, string, string]) {
  return {
    uid,
    ...(owner
      ? {
          ownerReferences: [
            {
              apiVersion: owner[0],
              kind: owner[1],
              name: owner[2],
              uid: `${owner[2]}-uid`,
              controller: true,
            },
          ],
        }
      : {}),
  };
}

describe('auditObjects: judged as admission would', () => {
  it.each([
    // name, pod metadata, image, decision, rewrite, judged
    [
      'a manifest Pod is judged as the mutating webhook will leave it',
      {},
      'nginx:1.27',
      'allow',
      true,
      'final',
    ],
    [
      'an existing Pod (with a uid) is judged as it runs',
      { uid: 'u1' },
      'nginx:1.27',
      'deny',
      false,
      'as-written',
    ],
    [
      'an existing Pod already on the mirror is allowed',
      { uid: 'u2' },
      'registry.mycorp.com/dockerhub/library/nginx:1',
      'allow',
      false,
      'as-written',
    ],
    ['a registry without mirror is denied either way', {}, 'ghcr.io/acme/app:1', 'deny', false, 'final'],
    ['an invalid reference is denied', {}, 'Bad Image', 'deny', false, 'final'],
  ] as const)('%s', (_name, metadata, image, decision, rewrite, judged) => {
    const report = auditObjects(policy, objects(pod('p', image, metadata)));
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ decision, rewrite, judged, image, kind: 'Pod', name: 'p' });
  });

  it('judges templates as their Pods will be rewritten, with the fix for a denied running Pod', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', uid: 'web-uid' },
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
    };
    const report = auditObjects(policy, objects(deployment));
    expect(report.findings[0]).toMatchObject({
      decision: 'allow',
      rewrite: true,
      final: 'registry.mycorp.com/dockerhub/library/nginx',
      mirror: 'docker.io',
      pullSecrets: ['mycorp-pull'],
      location: 'spec.template.spec.containers[0] "web"',
    });
  });

  it('uses --namespace for objects that name none (namespace exemptions), and their own namespace otherwise', () => {
    const bare = { ...pod('p', 'ghcr.io/acme/x:1'), metadata: { name: 'p' } };
    expect(
      auditObjects(policy, objects(bare), { defaultNamespace: 'registry-mirror' }).findings[0],
    ).toMatchObject({
      decision: 'exempt',
      namespace: 'registry-mirror',
      rule: 'namespace registry-mirror',
    });
    expect(
      auditObjects(policy, objects(pod('q', 'ghcr.io/acme/x:1')), { defaultNamespace: 'registry-mirror' })
        .findings[0]?.decision,
    ).toBe('deny');
  });

  it('ignores kinds without a pod spec and reports malformed pod specs as problems', () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } };
    const broken = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { template: { spec: { containers: 'nginx' } } },
    };
    const report = auditObjects(policy, objects(service, broken));
    expect(report.summary).toMatchObject({ objects: 0, ignored: 1, problems: 1 });
    expect(report.problems).toEqual([
      { source: 'test:1', message: 'Deployment d: spec.template.spec.containers must be a list' },
    ]);
  });
});

describe('auditObjects: controller-owned objects are reported once, under their top owner', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', uid: 'web-uid' },
    spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } },
  };
  const replicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'web-1',
      namespace: 'shop',
      ...owned('web-1-uid', ['apps/v1', 'Deployment', 'web']),
    },
    spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } },
  };
  const replicas = Array.from({ length: 5 }, (_, i) =>
    pod(`web-1-${i}`, 'nginx:1', owned(`pod-${i}`, ['apps/v1', 'ReplicaSet', 'web-1'])),
  );
  const cronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'report', namespace: 'shop', uid: 'report-uid' },
    spec: {
      jobTemplate: {
        spec: { template: { spec: { containers: [{ name: 'r', image: 'registry.mycorp.com/r:1' }] } } },
      },
    },
  };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'report-1',
      namespace: 'shop',
      ...owned('report-1-uid', ['batch/v1', 'CronJob', 'report']),
    },
    spec: { template: { spec: { containers: [{ name: 'r', image: 'registry.mycorp.com/r:1' }] } } },
  };
  const jobPod = pod('report-1-x', 'registry.mycorp.com/r:1', owned('jp', ['batch/v1', 'Job', 'report-1']));

  it('follows Pod -> ReplicaSet -> Deployment and Pod -> Job -> CronJob through the listed objects', () => {
    // Listed in the order the API lists kinds: Pods first.
    const report = auditObjects(policy, objects(...replicas, jobPod, replicaSet, deployment, job, cronJob));
    const rows = report.findings.map((f) => [f.kind, f.name, f.judged, f.decision, f.carriers]);
    expect(rows).toEqual([
      ['CronJob', 'report', 'as-written', 'allow', { Pod: 1 }],
      ['CronJob', 'report', 'final', 'allow', { Job: 1, CronJob: 1 }],
      ['Deployment', 'web', 'as-written', 'deny', { Pod: 5 }],
      ['Deployment', 'web', 'final', 'allow', { ReplicaSet: 1, Deployment: 1 }],
    ]);
    expect(report.summary).toMatchObject({
      objects: 10,
      workloads: 2,
      images: 10,
      findings: 4,
      wouldDeny: 1,
      wouldRewrite: 1,
      allowed: 2,
    });
  });

  it('stops at an owner that was not listed (an operator, another namespace) and names it', () => {
    const report = auditObjects(policy, objects(...replicas.slice(0, 2)));
    expect(report.findings.map((f) => [f.kind, f.name, f.carriers])).toEqual([
      ['ReplicaSet', 'web-1', { Pod: 2 }],
    ]);
  });

  it('ignores ownerReferences that are not the controller, and survives an ownership cycle', () => {
    const a = pod('a', 'registry.mycorp.com/a:1', {
      uid: 'a',
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'b', uid: 'b', controller: true }],
    });
    const b = pod('b', 'registry.mycorp.com/a:1', {
      uid: 'b',
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'a', uid: 'a', controller: true }],
    });
    const gcOnly = pod('c', 'registry.mycorp.com/a:1', {
      uid: 'c',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x' }],
    });
    const report = auditObjects(policy, objects(a, b, gcOnly));
    expect(report.summary.workloads).toBe(2);
    // a -> b -> a: the chain stops where it closes, at b.
    expect(report.findings.map((f) => f.name).sort()).toEqual(['b', 'c']);
  });
});

describe('flattenDocument', () => {
  it('expands List and typed lists, giving typed-list items their kind and apiVersion', () => {
    const out: InputObject[] = [];
    const problems: { source: string | null; message: string }[] = [];
    flattenDocument(
      {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'apps/v1', kind: 'DeploymentList', items: [{ metadata: { name: 'd' } }] },
          { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } },
          'not an object',
        ],
      },
      'f.yaml:1',
      out,
      problems,
    );
    expect(out.map((o) => [o.object['apiVersion'], o.object['kind'], o.source])).toEqual([
      ['apps/v1', 'Deployment', 'f.yaml:1 items[0] items[0]'],
      ['v1', 'Pod', 'f.yaml:1 items[1]'],
    ]);
    expect(problems).toEqual([
      { source: 'f.yaml:1 items[2]', message: expect.stringContaining('not a Kubernetes object') },
    ]);
  });
});
