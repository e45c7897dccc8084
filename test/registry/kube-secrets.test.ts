import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificateAuthority, issueServingCertificate } from '../../src/certs/issue.js';
import { connect } from '../../src/kube/api-client.js';
import { KubeSecrets } from '../../src/kube/pull-secret-source.js';

// The mirror check's credentials read through the API, as serve does without --pull-secrets-dir: a real HTTPS
// server stands in for the apiserver's Secret endpoint, reached through a kubeconfig as in a cluster.

const config = JSON.stringify({
  auths: { 'mirror.corp': { auth: Buffer.from('robot:s3cret').toString('base64') } },
});
const secrets: Record<string, { status: number; body: unknown }> = {
  '/api/v1/namespaces/gate/secrets/mirror-pull': {
    status: 200,
    body: {
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(config).toString('base64') },
    },
  },
  '/api/v1/namespaces/source/secrets/shared': {
    status: 200,
    body: { kind: 'Secret', type: 'Opaque', data: {} },
  },
  '/api/v1/namespaces/gate/secrets/forbidden': {
    status: 403,
    body: { kind: 'Status', message: 'secrets "forbidden" is forbidden', reason: 'Forbidden' },
  },
};

describe('KubeSecrets: pull secrets read through the API', () => {
  let server: Server;
  let dir: string;
  const asked: string[] = [];
  let source: KubeSecrets;

  beforeAll(async () => {
    const now = new Date();
    const ca = await issueCertificateAuthority('fake apiserver CA', now, 1);
    const tls = await issueServingCertificate(ca, { dns: ['localhost'], ips: ['127.0.0.1'] }, now, 1);
    server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      asked.push(`${req.headers.authorization ?? ''} ${req.url ?? ''}`);
      const found = secrets[req.url ?? ''] ?? { status: 404, body: { kind: 'Status', reason: 'NotFound' } };
      res.writeHead(found.status, { 'content-type': 'application/json' }).end(JSON.stringify(found.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    dir = await mkdtemp(join(tmpdir(), 'registry-gate-kube-secrets-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: {
              server: `https://127.0.0.1:${port}`,
              'certificate-authority-data': Buffer.from(ca.cert).toString('base64'),
            },
          },
        ],
        users: [{ name: 'u', user: { token: 'gate-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    source = new KubeSecrets(connect({ kubeconfig }), (name) =>
      name === 'shared' ? { namespace: 'source', name: 'shared' } : { namespace: 'gate', name },
    );
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the docker config of a Secret in the gate namespace, with the service account token', async () => {
    const state = await source.read('mirror-pull');
    expect(state).toMatchObject({ state: 'ok', config: JSON.parse(config) as unknown });
    expect(asked).toContain('Bearer gate-token /api/v1/namespaces/gate/secrets/mirror-pull');
  });

  it.each([
    ['absent', 'nope', { state: 'missing', reason: 'Secret gate/nope does not exist' }],
    [
      'not a docker config (the from source)',
      'shared',
      { state: 'malformed', reason: 'Secret source/shared is not of type kubernetes.io/dockerconfigjson' },
    ],
    [
      'not readable (RBAC)',
      'forbidden',
      { state: 'missing', reason: 'Secret gate/forbidden cannot be read (HTTP 403)' },
    ],
  ])('%s: named, without content', async (_name, secret, expected) => {
    expect(await source.read(secret)).toEqual(expected);
  });
});
