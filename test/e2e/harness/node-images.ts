import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inNamespace, busyboxStatic, type NodeClusterInfo } from './node-cluster.js';

const run = promisify(execFile);

/** What the tests pull: upstream names that the gate rewrites to the mirror's `dockerhub/` copy. */
export const BUSYBOX_UPSTREAM = 'busybox:1.36';
export const busyboxInMirror = (mirror: string): string => `${mirror}/dockerhub/library/busybox:1.36`;
export const gateImageInMirror = (mirror: string): string => `${mirror}/registry-gate/registry-gate:e2e`;

/** A docker config.json with the mirror's robot credentials: how crane and `npm run image -- --push` log in. */
export async function writeDockerConfig(cluster: NodeClusterInfo): Promise<string> {
  const dir = join(cluster.work, 'docker');
  await mkdir(dir, { recursive: true });
  const auth = Buffer.from(`${cluster.mirrorUser}:${cluster.mirrorPassword}`).toString('base64');
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [cluster.mirror]: { auth } } }), {
    mode: 0o600,
  });
  return dir;
}

/**
 * Pushes the node's images without the internet: one layer holding Debian's static busybox and its applet links,
 * tagged as Docker Hub's busybox (command `sh`) and as the sandbox ("pause") image (`sleep` forever), with crane.
 */
export async function pushBusyboxImages(cluster: NodeClusterInfo): Promise<void> {
  const busybox = await busyboxStatic();
  if (!busybox) throw new Error('no static busybox');
  const root = join(cluster.work, 'images/busybox-rootfs');
  await mkdir(join(root, 'bin'), { recursive: true });
  await copyFile(busybox, join(root, 'bin/busybox'));
  const { stdout: applets } = await run(busybox, ['--list']);
  for (const applet of applets.split('\n').filter((a) => a && a !== 'busybox'))
    await symlink('busybox', join(root, 'bin', applet));
  const layer = join(cluster.work, 'images/busybox-layer.tar');
  await run('tar', [
    '-C',
    root,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--sort=name',
    '-cf',
    layer,
    '.',
  ]);

  const env = {
    DOCKER_CONFIG: await writeDockerConfig(cluster),
    SSL_CERT_FILE: join(cluster.work, 'pki/ca.crt'),
  };
  const crane = async (...args: string[]): Promise<void> => {
    const r = await inNamespace(cluster, join(cluster.tools, 'crane'), args, { env });
    if (r.code !== 0) throw new Error(`crane ${args.join(' ')}: ${r.stderr}`);
  };
  const base = `${cluster.mirror}/e2e/busybox:base`;
  await crane('append', '-f', layer, '-t', base);
  const platform = ['--set-platform', 'linux/amd64'];
  await crane(
    'mutate',
    base,
    ...platform,
    '--env',
    'PATH=/bin',
    '--cmd',
    'sh',
    '-t',
    busyboxInMirror(cluster.mirror),
  );
  await crane(
    'mutate',
    base,
    ...platform,
    '--entrypoint',
    '/bin/sleep',
    '--cmd',
    '2147483647',
    '-t',
    `${cluster.mirror}/pause:e2e`,
  );
}

/** Lines of the mirror's log so far. */
export async function registryLogLines(cluster: NodeClusterInfo): Promise<string[]> {
  return (await readFile(cluster.registryLog, 'utf8')).split('\n');
}
