import { createServer, type Server } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cluster,
  createNamespace,
  describeE2E,
  ok,
  repoRoot,
  startGate,
  type Gate,
  type Kubectl,
} from './harness/index.js';

/**
 * A sidecar injector that runs after registry-gate (mutating webhooks are called in name order, and
 * `zz-e2e-sidecar` sorts after `registry-gate`) and adds a container with a short-name image. The apiserver must
 * then call registry-gate again (reinvocationPolicy: IfNeeded), which rewrites the sidecar and nothing twice.
 */
async function startSidecarInjector(): Promise<{ server: Server; port: number; ca: string }> {
  const made = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const server = createServer({ cert: made.cert, key: made.private }, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const review = JSON.parse(body) as {
        request: { uid: string; object: { spec: { containers: { name: string }[] } } };
      };
      const has = review.request.object.spec.containers.some((c) => c.name === 'sidecar');
      const patch = has
        ? []
        : [{ op: 'add', path: '/spec/containers/-', value: { name: 'sidecar', image: 'busybox:1.36' } }];
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: {
            uid: review.request.uid,
            allowed: true,
            ...(has
              ? {}
              : { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') }),
          },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, ca: made.cert };
}

describeE2E('reinvocation: a later mutating webhook adds a short-name sidecar', () => {
  let kubectl: Kubectl;
  let gate: Gate;
  let injector: Awaited<ReturnType<typeof startSidecarInjector>>;

  beforeAll(async () => {
    kubectl = cluster().kubectl;
    gate = await startGate(kubectl, {
      policyYaml: await readFile(join(repoRoot, 'examples/mycorp-policy.yaml'), 'utf8'),
    });
    injector = await startSidecarInjector();
    const config = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'zz-e2e-sidecar' },
      webhooks: [
        {
          name: 'sidecar.e2e.registry-gate.io',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          reinvocationPolicy: 'Never',
          clientConfig: {
            url: `https://127.0.0.1:${injector.port}/inject`,
            caBundle: Buffer.from(injector.ca).toString('base64'),
          },
          namespaceSelector: { matchLabels: { 'e2e-sidecar': 'on' } },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        },
      ],
    };
    await ok(kubectl(['apply', '-f', '-'], { input: JSON.stringify(config) }));
    await createNamespace(kubectl, 'sidecars', { 'e2e-sidecar': 'on' });
  });
  afterAll(async () => {
    await kubectl?.(['delete', 'mutatingwebhookconfiguration', 'zz-e2e-sidecar', '--ignore-not-found']);
    injector?.server.close();
    await gate?.close();
  });

  it('stores the sidecar rewritten too, and no image prefixed twice', async () => {
    // The injector's configuration may take a moment to reach the apiserver's webhook cache.
    let pod:
      | {
          metadata: { annotations: Record<string, string> };
          spec: { containers: { name: string; image: string }[] };
        }
      | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      await ok(kubectl(['run', `app-${attempt}`, '-n', 'sidecars', '--image=nginx:1.27']));
      pod = JSON.parse(await ok(kubectl(['get', 'pod', `app-${attempt}`, '-n', 'sidecars', '-o', 'json'])));
      if (pod?.spec.containers.length === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(pod?.spec.containers.map((c) => [c.name, c.image])).toEqual([
      [expect.stringMatching(/^app-\d+$/), 'registry.mycorp.com/dockerhub/library/nginx:1.27'],
      ['sidecar', 'registry.mycorp.com/dockerhub/library/busybox:1.36'],
    ]);
    expect(JSON.parse(pod?.metadata.annotations['registry-gate.io/original-images'] ?? '{}')).toEqual({
      [`containers/${pod?.spec.containers[0]?.name}`]: 'nginx:1.27',
      'containers/sidecar': 'busybox:1.36',
    });
    const passes = (await gate.logs()).filter(
      (l) => l.webhook === 'mutate' && l.namespace === 'sidecars' && l.name === pod?.spec.containers[0]?.name,
    );
    expect(passes.length).toBe(2); // first pass, then the reinvocation the sidecar caused
  });
});
