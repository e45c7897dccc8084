import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inNamespace } from './harness/node-cluster.js';
import {
  GATE_NAMESPACE as NS,
  applyInstall,
  createPullSecret,
  gatePods,
  runBusyboxDeployment,
  writeInstallOverlay,
} from './harness/node-install.js';
import { busyboxInMirror, writeDockerConfig } from './harness/node-images.js';
import {
  describeNode,
  nodeCluster,
  ok,
  repoRoot,
  waitFor,
  type Kubectl,
  type NodeCluster,
} from './harness/index.js';

const TENANT = 'verify';

/**
 * Mirror-aware admission on the real node (issue 22): the gate asks the mirror with the credentials it injects, read
 * through the API from the pull secret's source (the pull-secrets overlay gives it that access), trusting the
 * mirror's private CA from a mounted ConfigMap.
 */
function policy(mirror: string, verify: 'warn' | 'enforce'): string {
  return [
    'apiVersion: registry-gate.io/v1alpha1',
    'kind: RegistryPolicy',
    'metadata: {name: e2e-mirror-check}',
    'spec:',
    '  mode: enforce',
    '  mirrors:',
    `    - {source: docker.io, mirror: "${mirror}/dockerhub", verify: ${verify}, pin: digest}`,
    '  registrySources:',
    `    allowedRegistries: ["${mirror}"]`,
    '  pullSecrets:',
    `    - {registry: "${mirror}", secretName: mirror-pull, from: {namespace: ${NS}, name: mirror-pull}}`,
    '',
  ].join('\n');
}

/** The mirror's private CA for the gate, and a short credential-health period for the test. */
const MIRROR_CA_PATCHES = [
  {
    target: { kind: 'Deployment', name: 'registry-gate' },
    patch: JSON.stringify([
      {
        op: 'add',
        path: '/spec/template/spec/containers/0/args/-',
        value: '--mirror-ca-file=/etc/registry-gate/mirror-ca/ca.crt',
      },
      { op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--mirror-health-interval=3000' },
      {
        op: 'add',
        path: '/spec/template/spec/volumes/-',
        value: { name: 'mirror-ca', configMap: { name: 'mirror-ca' } },
      },
      {
        op: 'add',
        path: '/spec/template/spec/containers/0/volumeMounts/-',
        value: { name: 'mirror-ca', mountPath: '/etc/registry-gate/mirror-ca', readOnly: true },
      },
    ]),
  },
];

/** `/readyz` of one gate Pod, read over TLS from inside the cluster. */
async function readyz(cluster: NodeCluster, podIp: string): Promise<string> {
  const script =
    "require('https').get({host:process.argv[1],port:8443,path:'/readyz',rejectUnauthorized:false},(r)=>{" +
    "let b='';r.on('data',(d)=>b+=d);r.on('end',()=>console.log(b))}).on('error',(e)=>{console.error(e.message);process.exit(1)})";
  return (await inNamespace(cluster, process.execPath, ['-e', script, podIp], { timeoutMs: 10_000 })).stdout;
}

describeNode('mirror-aware admission on the real node: verify, pin: digest, credential health', () => {
  let cluster: NodeCluster;
  let kubectl: Kubectl;
  let overlay: string;

  beforeAll(async () => {
    cluster = nodeCluster();
    kubectl = cluster.kubectl;
    await ok(kubectl(['apply', '-f', join(repoRoot, 'manifests/base/namespace.yaml')]));
    await createPullSecret(cluster, NS);
    await ok(
      kubectl([
        'create',
        'configmap',
        'mirror-ca',
        '-n',
        NS,
        `--from-file=ca.crt=${join(cluster.work, 'pki/ca.crt')}`,
      ]),
    );
    overlay = await writeInstallOverlay(
      cluster,
      'mirror-check',
      'manifests/overlays/pull-secrets',
      policy(cluster.mirror, 'enforce'),
      MIRROR_CA_PATCHES,
    );
    await applyInstall(kubectl, overlay);
    await ok(kubectl(['create', 'namespace', TENANT]));
  });
  afterAll(async () => {
    await kubectl(['delete', '-k', overlay, '--ignore-not-found'], { timeoutMs: 180_000 });
    await kubectl(['delete', 'namespace', TENANT, '--ignore-not-found', '--wait=false']);
  });

  it('denies at admission, with NOT_IN_MIRROR and how to mirror it, a Deployment whose image the mirror lacks (verify: enforce)', async () => {
    const denied = await kubectl(['create', 'deployment', 'ghost', '-n', TENANT, '--image=busybox:9.99']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`is not in mirror ${cluster.mirror}/dockerhub`);
    expect(denied.stderr).toContain(`${cluster.mirror}/dockerhub/library/busybox:9.99`);
    expect(denied.stderr).toMatch(/skopeo copy/);
    expect((await kubectl(['get', 'deployment', 'ghost', '-n', TENANT])).stderr).toMatch(/NotFound/);
  });

  it('pins the digest the mirror serves (pin: digest): the running Pod pulled exactly those bytes', async () => {
    const served = await inNamespace(
      cluster,
      join(cluster.tools, 'crane'),
      ['digest', busyboxInMirror(cluster.mirror)],
      {
        env: {
          DOCKER_CONFIG: await writeDockerConfig(cluster),
          SSL_CERT_FILE: join(cluster.work, 'pki/ca.crt'),
        },
      },
    );
    expect(served.code, served.stderr).toBe(0);
    const digest = served.stdout.trim();
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const web = await waitFor(
      'the copied pull secret in the tenant namespace',
      async () =>
        (await kubectl(['get', 'secret', 'mirror-pull', '-n', TENANT])).code === 0 ? true : undefined,
      60_000,
      500,
    ).then(() => runBusyboxDeployment(kubectl, TENANT));
    expect(web.spec.containers[0]?.image).toBe(`${busyboxInMirror(cluster.mirror)}@${digest}`);
    expect(web.status.containerStatuses?.[0]?.imageID).toMatch(new RegExp(`@${digest}$`));
  });

  it('reports, within its period, a robot password rotated in the registry only, without failing readiness', async () => {
    const htpasswd = join(cluster.work, 'registry/htpasswd');
    const before = await readFile(htpasswd, 'utf8');
    const { execFile } = await import('node:child_process');
    const rotated = await new Promise<string>((resolve, reject) =>
      execFile('htpasswd', ['-Bbn', cluster.mirrorUser, 'rotated-elsewhere'], (err, out) =>
        err ? reject(err) : resolve(out),
      ),
    );
    await writeFile(htpasswd, `${rotated.trim()}\n`);
    try {
      const ips = (await gatePods(kubectl)).map((p) => p.status.podIP ?? '');
      const report = await waitFor(
        'every replica to report the rejected credentials',
        async () => {
          const bodies = await Promise.all(ips.map((ip) => readyz(cluster, ip)));
          return bodies.every((b) => b.includes('rejected')) ? bodies[0] : undefined;
        },
        60_000,
        1000,
      );
      expect(report).toContain(cluster.mirror);
      expect(report).not.toContain(cluster.mirrorPassword);
      // Readiness holds: a bad token must not take admission down.
      const ready = await ok(
        kubectl(['get', 'deployment', 'registry-gate', '-n', NS, '-o', 'jsonpath={.status.readyReplicas}']),
      );
      expect(ready).toBe('2');
    } finally {
      await writeFile(htpasswd, before);
    }
  });

  it('warns instead, naming the mirror reference and how to mirror it, once the policy says verify: warn (hot reload)', async () => {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'registry-gate-policy', namespace: NS },
      data: { 'policy.yaml': policy(cluster.mirror, 'warn') },
    };
    await ok(kubectl(['apply', '-f', '-'], { input: JSON.stringify(configMap) }));
    const warned = await waitFor(
      'the warn policy to reach every replica',
      async () => {
        const r = await kubectl([
          'create',
          'deployment',
          'ghost',
          '-n',
          TENANT,
          '--image=busybox:9.99',
          '--dry-run=server',
        ]);
        return r.code === 0 ? r.stderr : undefined;
      },
      90_000,
      1000,
    );
    expect(warned).toMatch(/^Warning: .*is not in mirror/m);
    expect(warned).toContain(`${cluster.mirror}/dockerhub/library/busybox:9.99`);
    expect(warned).toMatch(/skopeo copy/);
  }, 150_000);
});
