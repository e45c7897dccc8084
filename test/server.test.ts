// The webhook over real HTTPS, driven by AdmissionReview requests as the apiserver sends them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admissionFixture,
  applyAnswer,
  decodePatch,
  podReview,
  type ReviewAnswer,
} from './helpers/fixtures.js';
import { startTestWebhook, type TestWebhook } from './helpers/webhook.js';

const POLICY = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata: {name: test}
spec:
  mode: enforce
  mirrors:
    - {source: docker.io, mirror: mirror.corp.example/dockerhub}
    - {source: docker.elastic.co, mirror: mirror.corp.example/elastic}
  registrySources:
    allowedRegistries: [mirror.corp.example, registry.example.internal]
  pullSecrets:
    - {registry: mirror.corp.example, secretName: corp-pull}
  exemptions:
    namespaces: [exempt-ns]
`;

let gate: TestWebhook;
beforeAll(async () => {
  gate = await startTestWebhook(POLICY);
});
afterAll(async () => {
  await gate.stop();
});

async function review(path: string, body: unknown): Promise<ReviewAnswer> {
  const res = await gate.post(path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as ReviewAnswer;
}

function containerImages(spec: unknown): string[] {
  const s = spec as Record<string, { image: string }[] | undefined>;
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap((l) =>
    (s[l] ?? []).map((c) => c.image),
  );
}

describe('every fixture answers by the protocol', () => {
  const fixtures = [
    'pod-create.json',
    'pod-update.json',
    'pod-delete.json',
    'deployment-create.json',
    'deployment-create-dryrun.json',
    'cronjob-create.json',
    'pod-ephemeralcontainers-update.json',
    'pod-exec-connect.json',
  ];
  it.each(fixtures.flatMap((f) => [['/mutate', f] as const, ['/validate', f] as const]))(
    '%s %s',
    async (path, file) => {
      const body = admissionFixture(file);
      const answer = await review(`${path}?timeout=10s`, body);
      expect(answer.apiVersion).toBe('admission.k8s.io/v1');
      expect(answer.kind).toBe('AdmissionReview');
      expect(answer.response.uid).toBe(body.request.uid);
      expect(typeof answer.response.allowed).toBe('boolean');
      expect(answer.response.patch === undefined).toBe(answer.response.patchType === undefined);
      if (path === '/validate') expect(answer.response.patch).toBeUndefined();
      if (answer.response.patch !== undefined) {
        expect(answer.response.patchType).toBe('JSONPatch');
        // The patched object applies under strict RFC 6902, is then allowed, and mutates to nothing more.
        const again = structuredClone(body);
        again.request.object = applyAnswer(body.request.object, answer);
        expect((await review('/validate', again)).response.allowed).toBe(true);
        expect((await review('/mutate', again)).response.patch).toBeUndefined();
      }
    },
  );
});

describe('Pods', () => {
  it('rewrites a real Pod to the mirror, injects the pull secret, records the originals; the result is allowed and stable', async () => {
    const body = admissionFixture('pod-create.json');
    const answer = await review('/mutate', body);
    const pod = applyAnswer(body.request.object, answer) as {
      metadata: { annotations: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(containerImages(pod.spec)).toEqual([
      'mirror.corp.example/elastic/elasticsearch/elasticsearch:7.14.0',
      'mirror.corp.example/elastic/elasticsearch/elasticsearch:7.14.0',
    ]);
    expect(pod.spec['imagePullSecrets']).toEqual([{ name: 'corp-pull' }]);
    expect(JSON.parse(pod.metadata.annotations['registry-gate.io/original-images'] ?? '{}')).toEqual({
      'initContainers/configure-sysctl': 'docker.elastic.co/elasticsearch/elasticsearch:7.14.0',
      'containers/elasticsearch': 'docker.elastic.co/elasticsearch/elasticsearch:7.14.0',
    });
    expect(Object.keys(answer.response.auditAnnotations ?? {})).toEqual(['original-images']);
    expect(Object.keys(answer.response.auditAnnotations ?? {}).every((k) => !k.includes('/'))).toBe(true);

    const again = structuredClone(body);
    again.request.object = pod;
    expect((await review('/validate', again)).response.allowed).toBe(true);
    expect((await review('/mutate', again)).response.patch).toBeUndefined();
  });

  it('denies a Pod whose images resolve to a non-allowed registry, naming every container, the rule and the fix', async () => {
    const body = podReview({
      initContainers: [{ name: 'init', image: 'busybox' }],
      containers: [
        { name: 'web', image: 'docker.io/library/nginx:1.27' },
        { name: 'ok', image: 'mirror.corp.example/dockerhub/library/redis:7' },
        { name: 'evil', image: 'mirror.corp.example.evil.io/x' },
      ],
    });
    const answer = await review('/validate', body);
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status?.code).toBe(403);
    expect(answer.response.status?.reason).toBe('Forbidden');
    const message = answer.response.status?.message ?? '';
    expect(message).toContain('3 images are not allowed');
    expect(message).toContain(
      'spec.initContainers[0] "init": image "busybox" resolves to docker.io/library/busybox',
    );
    expect(message).toContain('use mirror.corp.example/dockerhub/library/busybox');
    expect(message).toContain('spec.containers[0] "web"');
    expect(message).toContain('use mirror.corp.example/dockerhub/library/nginx:1.27');
    expect(message).toContain('spec.containers[2] "evil"');
    expect(message).not.toContain('"ok"');
    expect(answer.response.auditAnnotations).toEqual({
      violations: 'REGISTRY_NOT_ALLOWED,REGISTRY_NOT_ALLOWED,REGISTRY_NOT_ALLOWED',
    });
  });

  it('denies an unparseable image with the grammar error', async () => {
    const answer = await review(
      '/validate',
      podReview({ containers: [{ name: 'c', image: 'Nginx:latest' }] }),
    );
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status?.message).toContain(
      'is not a valid image reference (invalid reference format: repository name (library/Nginx) must be lowercase)',
    );
  });

  it('rewrites image volumes and ephemeral containers too, and appends to existing pull secrets', async () => {
    const body = podReview({
      containers: [{ name: 'c', image: 'registry.example.internal/app:1' }],
      volumes: [
        { name: 'models', image: { reference: 'quay.io/x/models:1' } },
        { name: 'data', image: { reference: 'alpine:3' } },
      ],
      imagePullSecrets: [{ name: 'mine' }],
    });
    const answer = await review('/mutate', body);
    const pod = applyAnswer(body.request.object, answer) as {
      spec: { volumes: { image: { reference: string } }[]; imagePullSecrets: unknown };
    };
    expect(pod.spec.volumes.map((v) => v.image.reference)).toEqual([
      'quay.io/x/models:1',
      'mirror.corp.example/dockerhub/library/alpine:3',
    ]);
    expect(pod.spec.imagePullSecrets).toEqual([{ name: 'mine' }, { name: 'corp-pull' }]);
    const denied = await review('/validate', { ...body, request: { ...body.request, object: pod } });
    expect(denied.response.status?.message).toContain('spec.volumes[0] "models": image "quay.io/x/models:1"');
  });

  it('on UPDATE judges only new or changed images and never patches pull secrets', async () => {
    const old = podReview({ containers: [{ name: 'legacy', image: 'docker.io/library/nginx:1.19' }] }).request
      .object;
    const labelOnly = podReview({ containers: [{ name: 'legacy', image: 'docker.io/library/nginx:1.19' }] });
    labelOnly.request.operation = 'UPDATE';
    labelOnly.request.oldObject = old;
    (labelOnly.request.object?.['metadata'] as Record<string, unknown>)['labels'] = { new: 'label' };
    expect((await review('/validate', labelOnly)).response.allowed).toBe(true);
    expect((await review('/mutate', labelOnly)).response.patch).toBeUndefined();

    const swapped = podReview({ containers: [{ name: 'legacy', image: 'nginx:1.27' }] });
    swapped.request.operation = 'UPDATE';
    swapped.request.oldObject = old;
    const mutated = await review('/mutate', swapped);
    expect(decodePatch(mutated).map((op) => op.path)).toEqual([
      '/spec/containers/0/image',
      '/metadata/annotations',
    ]);
    expect((await review('/validate', swapped)).response.allowed).toBe(false);
  });

  it('on the ephemeralcontainers subresource patches only spec.ephemeralContainers', async () => {
    const body = admissionFixture('pod-ephemeralcontainers-update.json');
    const answer = await review('/mutate', body);
    const ops = decodePatch(answer);
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.every((op) => op.path.startsWith('/spec/ephemeralContainers/'))).toBe(true);
    const pod = applyAnswer(body.request.object, answer) as {
      spec: { ephemeralContainers: { image: string }[] };
    };
    expect(pod.spec.ephemeralContainers[0]?.image).toBe('mirror.corp.example/dockerhub/library/busybox');

    const blocked = admissionFixture('pod-ephemeralcontainers-update.json');
    const spec = blocked.request.object?.['spec'] as { ephemeralContainers: { image: string }[] };
    spec.ephemeralContainers[0] = { ...spec.ephemeralContainers[0], image: 'ghcr.io/attacker/tools' };
    const denied = await review('/validate', blocked);
    expect(denied.response.allowed).toBe(false);
    expect(denied.response.status?.message).toContain('spec.ephemeralContainers[0]');
  });

  it('leaves an exempt namespace untouched', async () => {
    const body = podReview(
      { containers: [{ name: 'c', image: 'docker.io/library/nginx' }] },
      { namespace: 'exempt-ns' },
    );
    expect((await review('/mutate', body)).response.patch).toBeUndefined();
    expect((await review('/validate', body)).response.allowed).toBe(true);
  });

  it('merges the original-images annotation when reinvoked after another webhook added a sidecar', async () => {
    const first = podReview({ containers: [{ name: 'app', image: 'nginx' }] });
    const pod = applyAnswer(first.request.object, await review('/mutate', first)) as {
      spec: { containers: unknown[] };
      metadata: { annotations: Record<string, string> };
    };
    pod.spec.containers.push({ name: 'sidecar', image: 'envoyproxy/envoy:v1.30' });
    const second = structuredClone(first);
    second.request.object = pod as unknown as Record<string, unknown>;
    const answer = await review('/mutate', second);
    const final = applyAnswer(pod, answer);
    expect(containerImages(final.spec)).toEqual([
      'mirror.corp.example/dockerhub/library/nginx',
      'mirror.corp.example/dockerhub/envoyproxy/envoy:v1.30',
    ]);
    expect(JSON.parse(final.metadata.annotations['registry-gate.io/original-images'] ?? '')).toEqual({
      'containers/app': 'nginx',
      'containers/sidecar': 'envoyproxy/envoy:v1.30',
    });
    expect((final.spec as Record<string, unknown>)['imagePullSecrets']).toEqual([{ name: 'corp-pull' }]);
  });
});

describe('pod templates', () => {
  it("warns what a real Deployment's Pods will get, without patching it, and allows it", async () => {
    const body = admissionFixture('deployment-create.json');
    const mutated = await review('/mutate', body);
    expect(mutated.response.patch).toBeUndefined();
    expect(mutated.response.warnings).toEqual([
      'spec.template.spec.containers[0] "nginx": nginx will be pulled as mirror.corp.example/dockerhub/library/nginx (mirror of docker.io)',
    ]);
    expect((await review('/validate', body)).response.allowed).toBe(true);
  });

  it('answers a dry-run request exactly as the real one', async () => {
    const real = await review('/mutate', admissionFixture('deployment-create.json'));
    const dry = await review('/mutate', admissionFixture('deployment-create-dryrun.json'));
    expect({ ...dry.response, uid: '' }).toEqual({ ...real.response, uid: '' });
    const realV = await review('/validate', admissionFixture('deployment-create.json'));
    const dryV = await review('/validate', admissionFixture('deployment-create-dryrun.json'));
    expect({ ...dryV.response, uid: '' }).toEqual({ ...realV.response, uid: '' });
  });

  it.each([
    ['apps', 'StatefulSet', ['spec', 'template', 'spec']],
    ['apps', 'DaemonSet', ['spec', 'template', 'spec']],
    ['apps', 'ReplicaSet', ['spec', 'template', 'spec']],
    ['batch', 'Job', ['spec', 'template', 'spec']],
    ['batch', 'CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
    ['', 'ReplicationController', ['spec', 'template', 'spec']],
    ['', 'PodTemplate', ['template', 'spec']],
  ])('judges a %s/%s template by what its Pods will pull', async (group, kind, specPath) => {
    const spec = {
      containers: [
        { name: 'ok', image: 'redis:7' },
        { name: 'bad', image: 'quay.io/org/app:1' },
      ],
    };
    const object: Record<string, unknown> = { apiVersion: 'x', kind, metadata: { name: 'w' } };
    let node = object;
    for (const key of specPath.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[specPath[specPath.length - 1] ?? 'spec'] = spec;
    const body = podReview({});
    body.request.kind = { group, version: 'v1', kind };
    body.request.object = object;
    const answer = await review('/validate', body);
    expect(answer.response.allowed).toBe(false);
    const at = specPath.join('.');
    expect(answer.response.status?.message).toContain(
      `${at}.containers[1] "bad": image "quay.io/org/app:1" is not in registrySources.allowedRegistries`,
    );
    expect(answer.response.status?.message).not.toContain('"ok"');
    const warned = await review('/mutate', body);
    expect(warned.response.warnings).toEqual([
      `${at}.containers[0] "ok": redis:7 will be pulled as mirror.corp.example/dockerhub/library/redis:7 (mirror of docker.io)`,
    ]);
  });
});

describe('modes', () => {
  const bad = podReview({ containers: [{ name: 'c', image: 'quay.io/org/app' }] });
  it('warn: allowed, with the would-be denial as a single-line warning', async () => {
    const answer = await review('/validate/warn', bad);
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.warnings).toHaveLength(1);
    expect(answer.response.warnings?.[0]).toMatch(
      /^registry-gate \(warn mode\) would deny: spec\.containers\[0\] "c"/,
    );
    expect(answer.response.warnings?.[0]).not.toMatch(/[\n\r]/);
  });
  it('audit: allowed silently, logged and counted', async () => {
    const answer = await review('/validate/audit', { ...bad, request: { ...bad.request, uid: 'audit-uid' } });
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.warnings).toBeUndefined();
    expect(gate.logs.find((l) => l['uid'] === 'audit-uid')).toMatchObject({
      decision: 'audit',
      mode: 'audit',
      violations: ['REGISTRY_NOT_ALLOWED'],
    });
    const metrics = (await gate.get('/metrics')).text;
    expect(metrics).toMatch(
      /registry_gate_admission_requests_total\{webhook="validate",kind="Pod",operation="CREATE",decision="audit",mode="audit"\} [1-9]/,
    );
  });
  it('audit: the mutator changes nothing', async () => {
    expect(
      (await review('/mutate/audit', podReview({ containers: [{ name: 'c', image: 'nginx' }] }))).response
        .patch,
    ).toBeUndefined();
  });
  it('an unknown mode path is 404', async () => {
    expect((await gate.post('/validate/strict', bad)).status).toBe(404);
  });
});

describe('malformed requests get 4xx with a reason, and the server keeps serving', () => {
  const valid = podReview({ containers: [{ name: 'c', image: 'nginx' }] });
  it.each([
    ['empty body', '', 400, /./],
    ['not JSON', 'hello', 400, /^request body is not valid JSON$/],
    ['truncated JSON', JSON.stringify(valid).slice(0, 50), 400, /^request body is not valid JSON/],
    ['JSON null', 'null', 400, /not valid JSON/],
    ['a JSON string', '"AdmissionReview"', 400, /not valid JSON/],
    ['a JSON array', '[]', 400, /AdmissionReview object/],
    [
      'wrong apiVersion',
      { ...valid, apiVersion: 'admission.k8s.io/v1beta1' },
      400,
      /apiVersion must be admission.k8s.io\/v1/,
    ],
    ['wrong kind', { ...valid, kind: 'Pod' }, 400, /kind must be AdmissionReview/],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 400, /request is missing/],
    ['missing uid', { ...valid, request: { ...valid.request, uid: undefined } }, 400, /request.uid/],
    ['numeric uid', { ...valid, request: { ...valid.request, uid: 7 } }, 400, /request.uid/],
    ['request null', { ...valid, request: null }, 400, /request is missing/],
    ['no request.kind', { ...valid, request: { ...valid.request, kind: undefined } }, 400, /request.kind/],
    [
      'unknown operation',
      { ...valid, request: { ...valid.request, operation: 'PATCH' } },
      400,
      /request.operation/,
    ],
    [
      'UPDATE without oldObject',
      { ...valid, request: { ...valid.request, operation: 'UPDATE', oldObject: null } },
      400,
      /request.oldObject must be an object on UPDATE/,
    ],
    [
      'object an array on CREATE',
      { ...valid, request: { ...valid.request, object: [] } },
      400,
      /request.object/,
    ],
    [
      'spec a string',
      { ...valid, request: { ...valid.request, object: { spec: 'containers: []' } } },
      400,
      /request.object.spec must be an object/,
    ],
    [
      'a container that is not an object',
      { ...valid, request: { ...valid.request, object: { spec: { initContainers: ['nginx'] } } } },
      400,
      /spec.initContainers\[0\] must be an object/,
    ],
    [
      'a Deployment template spec that is a list',
      {
        ...valid,
        request: {
          ...valid.request,
          kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
          object: { spec: { template: { spec: [] } } },
        },
      },
      400,
      /spec.template.spec must be an object/,
    ],
    [
      'object null on CREATE',
      { ...valid, request: { ...valid.request, object: null } },
      400,
      /request.object must be an object on CREATE/,
    ],
    [
      'containers not a list',
      { ...valid, request: { ...valid.request, object: { spec: { containers: {} } } } },
      400,
      /spec.containers must be a list/,
    ],
    [
      'non-string image',
      {
        ...valid,
        request: { ...valid.request, object: { spec: { containers: [{ name: 'c', image: 42 }] } } },
      },
      400,
      /spec.containers\[0\].image must be a string/,
    ],
    [
      'non-string image in an ephemeral container',
      {
        ...valid,
        request: {
          ...valid.request,
          object: { spec: { ephemeralContainers: [{ name: 'd', image: ['x'] }] } },
        },
      },
      400,
      /spec.ephemeralContainers\[0\].image must be a string/,
    ],
    [
      'non-string image volume reference',
      {
        ...valid,
        request: {
          ...valid.request,
          object: { spec: { volumes: [{ name: 'v', image: { reference: 1 } }] } },
        },
      },
      400,
      /spec.volumes\[0\].image.reference must be a string/,
    ],
    ['deeply nested JSON', '['.repeat(100_000) + ']'.repeat(100_000), 400, /./],
    ['10 MB body', JSON.stringify({ ...valid, padding: 'x'.repeat(10 * 1024 * 1024) }), 413, /./],
  ])('%s', async (_name, body, status, reason) => {
    for (const path of ['/mutate', '/validate']) {
      const res = await gate.post(path, body);
      expect(res.status).toBe(status);
      expect((res.body as { message?: string }).message ?? '').toMatch(reason);
    }
    // Still serving: the next real review is answered.
    const next = await review('/validate', valid);
    expect(next.response.uid).toBe(valid.request.uid);
  });

  it('refuses a body that is not declared JSON', async () => {
    const res = await gate.post('/validate', JSON.stringify(valid)).set('Content-Type', 'text/plain');
    expect(res.status).toBe(400);
  });

  it.each([
    ['a charset other than UTF-8', { 'Content-Type': 'application/json; charset=utf-16' }, 415, /charset/],
    ['a compressed body', { 'Content-Encoding': 'gzip' }, 415, /Content-Encoding/],
  ])('refuses %s with 415 and the reason', async (_name, headers, status, reason) => {
    const res = await gate.post('/mutate', JSON.stringify(valid)).set(headers);
    expect(res.status).toBe(status);
    expect((res.body as { message?: string }).message ?? '').toMatch(reason);
    expect((await gate.get('/healthz')).status).toBe(200);
  });

  it.each(['/mutate?timeout=10s', '/mutate/', '/MUTATE', '/mutate/warn/?timeout=10s'])(
    'routes %s by its path alone, as express did',
    async (path) => {
      const res = await gate.post(path, valid);
      expect(res.status).toBe(200);
      expect((res.body as { response?: { uid?: string } }).response?.uid).toBe(valid.request.uid);
    },
  );

  it('accepts a large real-size body (a 50-container Pod)', async () => {
    const containers = Array.from({ length: 50 }, (_, i) => ({
      name: `c${i}`,
      image: `nginx:1.${i}`,
      env: Array.from({ length: 20 }, (_, j) => ({ name: `V${j}`, value: 'x'.repeat(100) })),
    }));
    const body = podReview({ containers });
    expect(JSON.stringify(body).length).toBeGreaterThan(100_000);
    const answer = await review('/mutate', body);
    expect(decodePatch(answer).filter((op) => op.op === 'replace')).toHaveLength(50);
  });
});

describe('health, readiness, metrics', () => {
  it('is alive and ready once a certificate and policy are loaded', async () => {
    expect((await gate.get('/healthz')).text).toBe('ok');
    const ready = await gate.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      ready: true,
      checks: { policy: expect.stringContaining('generation 1') },
    });
  });
  it('exposes Prometheus metrics', async () => {
    const text = (await gate.get('/metrics')).text;
    for (const name of [
      'registry_gate_admission_requests_total',
      'registry_gate_image_rewrites_total',
      'registry_gate_admission_duration_seconds_bucket',
      'registry_gate_policy_reloads_total',
      'registry_gate_certificate_expiry_timestamp_seconds',
    ]) {
      expect(text).toContain(name);
    }
  });
  it('serves TLS 1.2 or newer only', async () => {
    const tls = await import('node:tls');
    const port = Number(new URL(gate.url).port);
    // The client is made willing to speak TLS 1.0/1.1 (security level 0), so only the server can refuse.
    const attempt = (maxVersion: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string>((resolve) => {
        const socket = tls.connect(
          {
            host: '127.0.0.1',
            port,
            ca: gate.ca,
            minVersion: 'TLSv1',
            maxVersion,
            ciphers: 'DEFAULT@SECLEVEL=0',
          },
          () => {
            resolve(socket.getProtocol() ?? 'unknown');
            socket.destroy();
          },
        );
        socket.on('error', () => resolve('refused'));
      });
    expect(await attempt('TLSv1.1')).toBe('refused');
    expect(await attempt('TLSv1.2')).toBe('TLSv1.2');
  });
});
