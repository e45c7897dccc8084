import { request } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess, freePort, stopAll, waitFor } from './process.js';
import { makeControlPlanePki, type KeyPair } from './pki.js';

/** What a test needs to talk to the control plane; plain data, so vitest can hand it from globalSetup to tests. */
export interface ControlPlaneInfo {
  readonly assets: string;
  readonly dir: string;
  readonly server: string;
  /** Admin (system:masters) kubeconfig. */
  readonly kubeconfig: string;
  readonly caCert: string;
}

export interface ControlPlane extends ControlPlaneInfo {
  stop(): Promise<void>;
}

function kubeconfigYaml(server: string, ca: string, user: string, client: KeyPair): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': b64(ca) } }],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) },
      },
    ],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user, namespace: 'default' } }],
    'current-context': 'e2e',
  });
}

function getStatus(url: string, ca: string, client: KeyPair): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, cert: client.cert, key: client.key, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

/**
 * etcd, kube-apiserver (RBAC and the default admission plugins, PodSecurity included) and kube-controller-manager
 * on 127.0.0.1, random ports, everything under `dir`. No kubelet or scheduler: Pods stay Pending.
 */
export async function startControlPlane(assets: string, dir: string): Promise<ControlPlane> {
  await mkdir(join(dir, 'etcd'), { recursive: true });
  const pki = await makeControlPlanePki();
  const file = async (name: string, content: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  };
  const caFile = await file('ca.crt', pki.ca.cert);
  const saPub = await file('sa.pub', pki.serviceAccount.publicKey);
  const saKey = await file('sa.key', pki.serviceAccount.privateKey);
  const apiCert = await file('apiserver.crt', pki.apiServer.cert);
  const apiKey = await file('apiserver.key', pki.apiServer.key);

  try {
    // Ports are picked free and then bound by another process: a rare race that a second attempt resolves.
    const etcdPort = await freePort();
    const peerPort = await freePort();
    const etcd = ManagedProcess.start(
      'etcd',
      join(assets, 'etcd'),
      [
        '--name=e2e',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=e2e=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
    );

    const apiPort = await freePort();
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = ManagedProcess.start(
      'kube-apiserver',
      join(assets, 'kube-apiserver'),
      [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        // No kubelet runs, so nothing could serve the kubernetes Service endpoints; the lease reconciler would fail.
        '--endpoint-reconciler-type=none',
        `--tls-cert-file=${apiCert}`,
        `--tls-private-key-file=${apiKey}`,
        `--client-ca-file=${caFile}`,
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        '--service-cluster-ip-range=127.0.100.0/24',
        '--authorization-mode=Node,RBAC',
        '--v=1',
      ],
      join(dir, 'kube-apiserver.log'),
    );

    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        if (!etcd.alive) throw new Error(`etcd exited; see ${etcd.logFile}`);
        if (!apiserver.alive) throw new Error(`kube-apiserver exited; see ${apiserver.logFile}`);
        return (await getStatus(`${server}/readyz`, pki.ca.cert, pki.admin)) === 200 ? true : undefined;
      },
      90_000,
      250,
    );

    const kubeconfig = await file(
      'admin.kubeconfig',
      kubeconfigYaml(server, pki.ca.cert, 'e2e-admin', pki.admin),
    );
    const kcmKubeconfig = await file(
      'controller-manager.kubeconfig',
      kubeconfigYaml(server, pki.ca.cert, 'system:kube-controller-manager', pki.controllerManager),
    );
    const kcmPort = await freePort();
    ManagedProcess.start(
      'kube-controller-manager',
      join(assets, 'kube-controller-manager'),
      [
        `--kubeconfig=${kcmKubeconfig}`,
        `--authentication-kubeconfig=${kcmKubeconfig}`,
        `--authorization-kubeconfig=${kcmKubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        '--leader-elect=false',
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${caFile}`,
        '--use-service-account-credentials=true',
        '--v=1',
      ],
      join(dir, 'kube-controller-manager.log'),
    );

    return { assets, dir, server, kubeconfig, caCert: pki.ca.cert, stop: () => stopAll() };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
