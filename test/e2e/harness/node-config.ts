import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueServingCertificate } from '../../../src/certs/issue.js';
import { clientCertificate, makeControlPlanePki, type KeyPair } from './pki.js';

/**
 * The e2e node cluster's addresses. They exist only inside the cluster's own network namespace (no other interface is
 * there), and they are taken from the documentation ranges of RFC 5737 so that nobody mistakes them for real hosts.
 */
export const NODE_NETWORK = {
  nodeName: 'e2e-node',
  nodeIp: '192.0.2.10',
  podCidr: '198.51.100.0/24',
  serviceCidr: '203.0.113.0/24',
  /** The `kubernetes` Service: the first address of the service range. */
  kubernetesServiceIp: '203.0.113.1',
  apiServerPort: 6443,
  mirrorPort: 5443,
} as const;

export const MIRROR = `${NODE_NETWORK.nodeIp}:${NODE_NETWORK.mirrorPort}`;
export const MIRROR_USER = 'mirror-robot';
export const PAUSE_IMAGE = `${MIRROR}/pause:e2e`;

/** Where the node's binaries come from. */
export interface NodeBinaries {
  /** The control plane's build (envtest layout) with kubelet, kube-scheduler and kube-proxy beside. */
  readonly assets: string;
  /** test/e2e/node/build-tools.sh's directory: registry, crane, containerd, containerd-shim-runc-v2, ctr. */
  readonly tools: string;
  readonly runc: string;
  readonly cniBin: string;
}

export interface NodeConfig {
  readonly work: string;
  readonly caCert: string;
  readonly mirrorPassword: string;
  readonly cgroupRoot: string;
}

const yamlOrJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function kubeconfig(
  server: string,
  caFile: string,
  user: string,
  pair: { cert: string; key: string },
): string {
  return yamlOrJson({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e-node', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { 'client-certificate': pair.cert, 'client-key': pair.key } }],
    contexts: [{ name: 'e2e-node', context: { cluster: 'e2e-node', user, namespace: 'default' } }],
    'current-context': 'e2e-node',
  });
}

/**
 * Writes everything cluster.sh starts from into `work`: one CA for the control plane, the kubelet and the mirror;
 * kubeconfigs; each component's flags or configuration file; the mirror's htpasswd (bcrypt, from `htpasswd -B`, given
 * as `htpasswdLine`). Plain files, so that a failed run can be read and re-run by hand (REGISTRY_GATE_E2E_KEEP=1).
 */
export async function writeNodeConfig(
  work: string,
  bin: NodeBinaries,
  options: {
    mirrorPassword: string;
    htpasswdLine: string;
    cgroupRoot: string;
    cgroupMounts: readonly string[];
  },
): Promise<NodeConfig> {
  const n = NODE_NETWORK;
  const dirs = [
    'pki',
    'registry/data',
    'containerd',
    `containerd/certs.d/${MIRROR}`,
    'cni/net.d',
    'kubelet/root',
  ];
  for (const d of [...dirs, 'kube-proxy', 'logs']) await mkdir(join(work, d), { recursive: true });
  const file = async (name: string, content: string, mode = 0o644): Promise<string> => {
    const path = join(work, name);
    await writeFile(path, content, { mode });
    return path;
  };
  const pem = async (name: string, pair: KeyPair): Promise<{ cert: string; key: string }> => ({
    cert: await file(`pki/${name}.crt`, pair.cert),
    key: await file(`pki/${name}.key`, pair.key, 0o600),
  });

  const pki = await makeControlPlanePki({
    dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ips: ['127.0.0.1', n.nodeIp, n.kubernetesServiceIp],
  });
  const now = new Date();
  const caFile = await file('pki/ca.crt', pki.ca.cert);
  const apiServer = await pem('apiserver', pki.apiServer);
  const saPub = await file('pki/sa.pub', pki.serviceAccount.publicKey);
  const saKey = await file('pki/sa.key', pki.serviceAccount.privateKey, 0o600);
  const admin = await pem('admin', pki.admin);
  const controllerManager = await pem('controller-manager', pki.controllerManager);
  const scheduler = await pem('scheduler', await clientCertificate(pki.ca, 'system:kube-scheduler'));
  const proxy = await pem('kube-proxy', await clientCertificate(pki.ca, 'system:kube-proxy'));
  const kubeletClient = await pem(
    'kubelet-client',
    await clientCertificate(pki.ca, `system:node:${n.nodeName}`, 'system:nodes'),
  );
  const apiserverKubeletClient = await pem(
    'apiserver-kubelet-client',
    await clientCertificate(pki.ca, 'kube-apiserver-kubelet-client', 'system:masters'),
  );
  const kubeletServing = await pem(
    'kubelet-serving',
    await issueServingCertificate(pki.ca, { dns: [n.nodeName], ips: [n.nodeIp] }, now, 1),
  );
  const registryServing = await pem(
    'registry',
    await issueServingCertificate(pki.ca, { dns: ['e2e-mirror'], ips: [n.nodeIp] }, now, 1),
  );

  const server = `https://${n.nodeIp}:${n.apiServerPort}`;
  await file('admin.kubeconfig', kubeconfig(server, caFile, 'e2e-admin', admin), 0o600);
  const kcm = await file(
    'controller-manager.kubeconfig',
    kubeconfig(server, caFile, 'system:kube-controller-manager', controllerManager),
  );
  const sched = await file(
    'scheduler.kubeconfig',
    kubeconfig(server, caFile, 'system:kube-scheduler', scheduler),
  );
  const proxyKubeconfig = await file(
    'kube-proxy.kubeconfig',
    kubeconfig(server, caFile, 'system:kube-proxy', proxy),
  );
  await file('kubelet.kubeconfig', kubeconfig(server, caFile, `system:node:${n.nodeName}`, kubeletClient));

  const flags = (name: string, list: readonly string[]): Promise<string> =>
    file(`${name}.flags`, list.join('\n'));
  await flags('kube-apiserver', [
    '--etcd-servers=http://127.0.0.1:2379',
    '--bind-address=0.0.0.0',
    `--advertise-address=${n.nodeIp}`,
    `--secure-port=${n.apiServerPort}`,
    `--tls-cert-file=${apiServer.cert}`,
    `--tls-private-key-file=${apiServer.key}`,
    `--client-ca-file=${caFile}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    `--service-cluster-ip-range=${n.serviceCidr}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--kubelet-client-certificate=${apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${apiserverKubeletClient.key}`,
    `--kubelet-certificate-authority=${caFile}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--v=1',
  ]);
  await flags('kube-controller-manager', [
    `--kubeconfig=${kcm}`,
    `--authentication-kubeconfig=${kcm}`,
    `--authorization-kubeconfig=${kcm}`,
    '--bind-address=127.0.0.1',
    '--secure-port=10257',
    '--leader-elect=false',
    `--service-account-private-key-file=${saKey}`,
    `--root-ca-file=${caFile}`,
    '--use-service-account-credentials=true',
    '--v=1',
  ]);
  await flags('kube-scheduler', [
    `--kubeconfig=${sched}`,
    `--authentication-kubeconfig=${sched}`,
    `--authorization-kubeconfig=${sched}`,
    '--bind-address=127.0.0.1',
    '--secure-port=10259',
    '--leader-elect=false',
    '--v=1',
  ]);

  // The mirror: CNCF distribution with TLS from the test CA and htpasswd (one robot user), as enterprise mirrors
  // require credentials for every pull. `delete` on, so a test can remove an image again.
  await file('registry/htpasswd', `${options.htpasswdLine.trim()}\n`);
  await file(
    'registry/config.yml',
    yamlOrJson({
      version: 0.1,
      log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
      storage: { filesystem: { rootdirectory: join(work, 'registry/data') }, delete: { enabled: true } },
      http: {
        addr: MIRROR,
        secret: randomBytes(16).toString('hex'),
        tls: { certificate: registryServing.cert, key: registryServing.key },
      },
      auth: { htpasswd: { realm: 'e2e-mirror', path: join(work, 'registry/htpasswd') } },
    }),
  );

  // containerd 2.x (config version 3): private root, state and socket; the mirror trusted through certs.d with
  // the test CA; runc told to clamp oom_score_adj, since root here lacks CAP_SYS_RESOURCE and cannot set the
  // sandbox's -998 ("nsexec: failed to update /proc/self/oom_score_adj: Permission denied").
  await file(
    `containerd/certs.d/${MIRROR}/hosts.toml`,
    [
      `server = "https://${MIRROR}"`,
      `[host."https://${MIRROR}"]`,
      '  capabilities = ["pull", "resolve"]',
      `  ca = "${caFile}"`,
      '',
    ].join('\n'),
  );
  const c = join(work, 'containerd');
  await file(
    'containerd/config.toml',
    `version = 3
root = "${c}/root"
state = "${c}/state"
imports = []
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs",
  "io.containerd.nri.v1.nri", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${c}/containerd.sock"
[ttrpc]
  address = "${c}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${c}/opt"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${PAUSE_IMAGE}"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "${c}/certs.d"
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "${bin.runc}"
        Root = "${c}/runc"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${bin.cniBin}"]
    conf_dir = "${work}/cni/net.d"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`,
  );
  // Pods on a bridge in the cluster's network namespace (Debian's CNI plugins); no masquerading, since there is
  // nowhere beyond the namespace to go.
  await file(
    'cni/net.d/10-e2e.conflist',
    yamlOrJson({
      cniVersion: '1.0.0',
      name: 'e2e',
      plugins: [
        {
          type: 'bridge',
          bridge: 'rg-cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: join(work, 'cni/ipam'),
            ranges: [[{ subnet: n.podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'loopback' },
      ],
    }),
  );

  await file(
    'kubelet/config.yaml',
    yamlOrJson({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: n.nodeIp,
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      tlsCertFile: kubeletServing.cert,
      tlsPrivateKeyFile: kubeletServing.key,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: false },
        x509: { clientCAFile: caFile },
      },
      authorization: { mode: 'AlwaysAllow' },
      containerRuntimeEndpoint: `unix://${c}/containerd.sock`,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: `/${options.cgroupRoot}`,
      // This machine kind runs cgroup v1, which kubelet 1.37 refuses unless told (KEP-5573).
      failCgroupV1: false,
      failSwapOn: false,
      makeIPTablesUtilChains: false,
      // No DNS: nothing in the tests resolves names, and no resolver of the host is reachable from here anyway.
      resolvConf: '',
      imageGCHighThresholdPercent: 100,
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      shutdownGracePeriod: '0s',
      // Mounted Secrets (the gate's serving certificate) are refreshed at this period; the default is a minute.
      syncFrequency: '10s',
    }),
  );
  await file(
    'kube-proxy/config.yaml',
    yamlOrJson({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      clientConnection: { kubeconfig: proxyKubeconfig },
      clusterCIDR: n.podCidr,
      bindAddress: n.nodeIp,
      healthzBindAddress: '127.0.0.1:10256',
      metricsBindAddress: '127.0.0.1:10249',
      // 0 leaves the kernel's conntrack settings alone: nf_conntrack_max is global, not per network namespace.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    }),
  );

  await file(
    'cluster.env',
    Object.entries({
      ASSETS: bin.assets,
      TOOLS: bin.tools,
      NODE_NAME: n.nodeName,
      NODE_IP: n.nodeIp,
      SERVICE_CIDR: n.serviceCidr,
      MIRROR,
      MIRROR_USER,
      MIRROR_PASSWORD: options.mirrorPassword,
      PAUSE_IMAGE,
      CGROUP_ROOT: options.cgroupRoot,
      CGROUP_MOUNTS: options.cgroupMounts.join(' '),
    })
      .map(([k, v]) => `${k}='${v}'`)
      .join('\n') + '\n',
    0o600,
  );
  return {
    work,
    caCert: pki.ca.cert,
    mirrorPassword: options.mirrorPassword,
    cgroupRoot: options.cgroupRoot,
  };
}
