import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess, waitFor } from './process.js';
import { MIRROR, MIRROR_USER, NODE_NETWORK, writeNodeConfig, type NodeBinaries } from './node-config.js';

const run = promisify(execFile);

/** What a test needs to drive the node cluster; plain data, handed from globalSetup to the test files. */
export interface NodeClusterInfo {
  readonly work: string;
  readonly assets: string;
  readonly tools: string;
  /** A process inside the cluster's network namespace: `nsenter --net=/proc/<pid>/ns/net` reaches the cluster. */
  readonly namespacePid: number;
  readonly kubeconfig: string;
  /** The apiserver's URL, reachable inside the namespace. */
  readonly server: string;
  readonly caCert: string;
  readonly mirror: string;
  readonly mirrorUser: string;
  readonly mirrorPassword: string;
  /** The distribution registry's log: its access log names the user of every authenticated request. */
  readonly registryLog: string;
}

export interface NodeCluster extends NodeClusterInfo {
  stop(): Promise<void>;
}

/**
 * The kernel settings the kubelet changes on start (it sets what it needs unless `protectKernelDefaults`, which
 * makes it refuse to start instead). They are global, not per namespace: saved before and restored after.
 */
const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
] as const;

/** Cgroup roots of our kubelets start with this; a run killed before its teardown is cleaned up by the next. */
const CGROUP_PREFIX = 'registry-gate-e2e-';

const REQUIRED_COMMANDS = [
  'unshare',
  'setpriv',
  'nsenter',
  'ip',
  'iptables',
  'curl',
  'htpasswd',
  'runc',
] as const;

export async function which(command: string): Promise<string | undefined> {
  return run('sh', ['-c', `command -v ${command}`]).then(
    (r) => r.stdout.trim() || undefined,
    () => undefined,
  );
}

/** Why a node cannot run here (not root, a missing command or package), or null when it can. */
export async function nodePrerequisitesMissing(assets: string): Promise<string | null> {
  if (process.getuid?.() !== 0)
    return 'the node tests need root (containerd, runc, kubelet, network namespaces)';
  const missing: string[] = [];
  for (const c of REQUIRED_COMMANDS) if (!(await which(c))) missing.push(c);
  for (const b of ['kubelet', 'kube-scheduler', 'kube-proxy'])
    await access(join(assets, b)).catch(() => missing.push(`${b} (in ${assets})`));
  if (!(await cniBinDir())) missing.push('the CNI plugins (Debian: containernetworking-plugins)');
  if (!(await busyboxStatic())) missing.push('a static busybox (Debian: busybox-static)');
  if (missing.length === 0) return null;
  return (
    `missing ${missing.join(', ')}; on Debian: apt-get install runc iptables curl apache2-utils ` +
    'containernetworking-plugins busybox-static (see docs/development.md)'
  );
}

export async function cniBinDir(): Promise<string | undefined> {
  for (const dir of ['/usr/lib/cni', '/opt/cni/bin']) {
    if (
      await access(join(dir, 'bridge')).then(
        () => true,
        () => false,
      )
    )
      return dir;
  }
  return undefined;
}

/** A statically linked busybox: the test images are made of it alone (a dynamic one would need its libraries). */
export async function busyboxStatic(): Promise<string | undefined> {
  for (const path of ['/bin/busybox', '/usr/bin/busybox']) {
    const binary = await readFile(path).catch(() => undefined);
    // A dynamic ELF names its program interpreter (the dynamic loader); a static one has none.
    if (binary && !binary.includes('/ld-linux')) return path;
  }
  return undefined;
}

/** The mounted cgroup hierarchies: each v1 controller and, beside them or alone, the cgroup2 hierarchy. */
async function mountedCgroups(): Promise<{ v1: string[]; v2: string[] }> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' '));
  const of = (type: string): string[] =>
    mounts
      .filter((m) => m[2] === type)
      .map((m) => m[1] ?? '')
      .filter(Boolean);
  return { v1: of('cgroup'), v2: of('cgroup2') };
}

/** Where the kubelet's cgroup root must exist before it starts: every v1 controller, or the one v2 hierarchy. */
async function cgroupMounts(): Promise<string[]> {
  const { v1, v2 } = await mountedCgroups();
  return v1.length > 0 ? v1 : v2;
}

/** Removes a cgroup tree bottom-up (a cgroup directory can only be removed once it has no children or tasks). */
async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(join(dir, e.name));
  await rmdir(dir).catch(() => {});
}

/**
 * Removes `root` from every hierarchy, the cgroup2 one included: on a cgroup v1 host with the "unified" hierarchy
 * beside it, the kubelet and runc create the root there too.
 */
async function removeCgroups(root: string): Promise<string[]> {
  const left: string[] = [];
  const { v1, v2 } = await mountedCgroups();
  for (const mp of [...v1, ...v2]) {
    const dir = join(mp, root);
    // Tasks of killed containers leave their cgroups a moment after the PID namespace is gone.
    await waitFor(
      `cgroup ${dir} removed`,
      async () => {
        await removeCgroupTree(dir);
        return (await access(dir).then(
          () => false,
          () => true,
        ))
          ? true
          : undefined;
      },
      10_000,
      200,
    ).catch(() => left.push(dir));
  }
  return left;
}

/** Where saved kernel settings wait to be restored; outside the checkout, so a killed run is repaired by the next. */
const restoreDir = join(
  process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'),
  'registry-gate/e2e-node-restore',
);

async function saveHostState(id: string, cgroupRoot: string): Promise<string> {
  await mkdir(restoreDir, { recursive: true });
  const sysctls: Record<string, string> = {};
  for (const s of KUBELET_SYSCTLS) sysctls[s] = (await readFile(`/proc/sys/${s}`, 'utf8')).trim();
  const path = join(restoreDir, `${id}.json`);
  await writeFile(path, JSON.stringify({ pid: process.pid, cgroupRoot, sysctls }));
  return path;
}

async function restoreHostState(path: string): Promise<string[]> {
  const saved = JSON.parse(await readFile(path, 'utf8')) as {
    cgroupRoot: string;
    sysctls: Record<string, string>;
  };
  const problems = await removeCgroups(saved.cgroupRoot);
  for (const [s, value] of Object.entries(saved.sysctls)) {
    await writeFile(`/proc/sys/${s}`, value).catch((err: Error) =>
      problems.push(`sysctl ${s}: ${err.message}`),
    );
  }
  if (problems.length === 0) await rm(path, { force: true });
  return problems;
}

/** A run that was killed before its teardown left its state file: restore it now, if its test runner is gone. */
async function repairKilledRuns(): Promise<void> {
  for (const name of await readdir(restoreDir).catch(() => [])) {
    const path = join(restoreDir, name);
    const saved = JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as { pid?: number };
    const alive =
      saved.pid !== undefined &&
      (await access(`/proc/${saved.pid}`).then(
        () => true,
        () => false,
      ));
    if (!alive) {
      const problems = await restoreHostState(path);
      process.stderr.write(
        `e2e node: restored what a killed run left (${name})${problems.length ? `: ${problems.join('; ')}` : ''}\n`,
      );
    }
  }
}

/** The PID (in our namespace) of the namespaced PID 1, the child of `unshare --fork`. */
async function childOf(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const first = Number(text.trim().split(/\s+/)[0]);
  return Number.isInteger(first) && first > 0 ? first : undefined;
}

export interface NodeImages {
  /** Pushes what the node and the tests pull into the mirror, given a way to run commands inside the namespace. */
  (cluster: NodeClusterInfo): Promise<void>;
}

/**
 * Starts the node cluster: control plane, kube-scheduler, kube-proxy, the mirror, containerd and the kubelet, in their
 * own PID, network and mount namespaces (test/e2e/node/cluster.sh), and pushes the images with `pushImages` as soon
 * as the mirror answers. Resolves when the node is Ready.
 */
export async function startNodeCluster(
  bin: NodeBinaries,
  work: string,
  repoRoot: string,
  pushImages: NodeImages,
): Promise<NodeCluster> {
  await repairKilledRuns();
  const id = randomBytes(4).toString('hex');
  const cgroupRoot = `${CGROUP_PREFIX}${id}`;
  const mirrorPassword = randomBytes(16).toString('hex');
  const { stdout: htpasswdLine } = await run('htpasswd', ['-Bbn', MIRROR_USER, mirrorPassword]);
  const config = await writeNodeConfig(work, bin, {
    mirrorPassword,
    htpasswdLine,
    cgroupRoot,
    cgroupMounts: await cgroupMounts(),
  });
  const stateFile = await saveHostState(id, cgroupRoot);
  const supervisor = ManagedProcess.start(
    'node-cluster',
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      '--',
      'unshare',
      '--pid',
      '--fork',
      '--mount-proc',
      '--net',
      '--propagation',
      'private',
      '--kill-child',
      '--',
      'bash',
      join(repoRoot, 'test/e2e/node/cluster.sh'),
      work,
    ],
    join(work, 'logs/supervisor.log'),
  );
  const info: NodeClusterInfo = {
    work,
    assets: bin.assets,
    tools: bin.tools,
    namespacePid: supervisor.child.pid ?? 0,
    kubeconfig: join(work, 'admin.kubeconfig'),
    server: `https://${NODE_NETWORK.nodeIp}:${NODE_NETWORK.apiServerPort}`,
    caCert: config.caCert,
    mirror: MIRROR,
    mirrorUser: MIRROR_USER,
    mirrorPassword,
    registryLog: join(work, 'logs/registry.log'),
  };

  const stop = async (): Promise<void> => {
    const pid1 = await childOf(info.namespacePid);
    if (pid1 !== undefined) process.kill(pid1, 'SIGTERM');
    await supervisor.stop(20_000);
    const problems = await restoreHostState(stateFile);
    if (problems.length > 0) throw new Error(`e2e node: could not restore the host: ${problems.join('; ')}`);
  };

  const failure = async (what: string): Promise<Error> => {
    const why = await readFile(join(work, 'failed'), 'utf8').catch(() => '');
    const tails = await Promise.all(
      ['supervisor.log', 'cluster.log'].map(async (name) =>
        (await readFile(join(work, 'logs', name), 'utf8').catch(() => '')).split('\n').slice(-10).join('\n'),
      ),
    );
    return new Error(
      `e2e node: ${what}${why ? `: ${why.trim()}` : ''} (logs in ${work}/logs)\n${tails.join('\n')}`,
    );
  };
  const until = async (file: string, what: string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (
        await access(join(work, file)).then(
          () => true,
          () => false,
        )
      )
        return;
      if (
        !supervisor.alive ||
        (await access(join(work, 'failed')).then(
          () => true,
          () => false,
        ))
      )
        throw await failure(`the cluster stopped before ${what}`);
      if (Date.now() > deadline) throw await failure(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    await until('registry-up', 'the mirror', 120_000);
    await pushImages(info);
    await writeFile(join(work, 'images-pushed'), '');
    await until('ready', `node ${NODE_NETWORK.nodeName} Ready`, 300_000);
    return { ...info, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Runs `command` inside the cluster's network namespace (kubectl, crane, the image push), as root. */
export function inNamespace(
  cluster: Pick<NodeClusterInfo, 'namespacePid'>,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/proc/${cluster.namespacePid}/ns/net`, '--', command, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 0), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
