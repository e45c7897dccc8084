// The mirror-check cells' fixture: a real CNCF distribution registry on 127.0.0.1 (TLS with a throwaway CA, htpasswd),
// every image of the bench Pods pushed into it with crane, the bench policy moved onto it, and the pull secret laid
// out as --pull-secrets-dir reads it. Tools: $REGISTRY_GATE_NODE_TOOLS, else test/e2e/node/build-tools.sh (cached).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SMALL_POLICY, largePodReview, smallPodReview } from './workloads.mjs';

const run = promisify(execFile);
const ROBOT = { username: 'bench', password: 'bench-robot-pass' };

/** 37 distinct images over 50 containers (docker.io short names, quay.io, docker.elastic.co), as issue 22 asks. */
export const DISTINCT_IMAGES = [
  ...Array.from({ length: 15 }, (_, k) => `svc-${k}:1.${k}`),
  ...Array.from({ length: 12 }, (_, k) => `quay.io/team/svc-${k}:2.${k}`),
  ...Array.from({ length: 10 }, (_, k) => `docker.elastic.co/elastic/svc-${k}:7.${k}`),
];

function toolsDir(root) {
  if (process.env.REGISTRY_GATE_NODE_TOOLS) return process.env.REGISTRY_GATE_NODE_TOOLS;
  const out = execFileSync('bash', [join(root, 'test/e2e/node/build-tools.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop();
}

/** The loopback copy of the bench policy: the mirror host replaced, verification as asked. */
function mirrorPolicy(host, verification, name) {
  const spec = structuredClone(SMALL_POLICY.spec);
  const moved = (text) => text.replace('registry.mycorp.com', host);
  spec.mirrors = spec.mirrors.map((m) => ({ ...m, mirror: moved(m.mirror), ...verification }));
  spec.registrySources.allowedRegistries = spec.registrySources.allowedRegistries.map(moved);
  spec.pullSecrets = spec.pullSecrets.map((p) => ({ ...p, registry: moved(p.registry) }));
  return { ...SMALL_POLICY, metadata: { name }, spec };
}

/** The 50-container Pod with 37 distinct images. */
function pod50c37() {
  const review = largePodReview();
  review.request.object.spec.containers.forEach((c, i) => {
    c.image = DISTINCT_IMAGES[i % DISTINCT_IMAGES.length];
  });
  return review;
}

/** Where the policy sends each image: what must be in the mirror. */
function mirrored(host, image) {
  const [name, tag] = image.split(/:(?=[^:/]+$)/);
  if (name.startsWith('quay.io/')) return `${host}/quay/${name.slice('quay.io/'.length)}:${tag}`;
  if (name.startsWith('docker.elastic.co/'))
    return `${host}/elastic/${name.slice('docker.elastic.co/'.length)}:${tag}`;
  return `${host}/dockerhub/library/${name}:${tag}`;
}

async function waitReady(port, ca) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/v2/', ca, timeout: 500 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the mirror registry did not answer within 10 s');
}

/**
 * Starts the registry (pinned to `cpu`), pushes the images, writes the policies and the pull secret. Resolves to
 * `{ skip }` when the tools cannot be had, else to what run.mjs needs; `stop()` ends the registry.
 */
export async function startMirror({ root, work, port, cpu }) {
  let dir;
  let htpasswd;
  try {
    dir = toolsDir(root);
    htpasswd = (await run('sh', ['-c', 'command -v htpasswd'])).stdout.trim();
  } catch (err) {
    return {
      skip: `no registry tools (${err.message.split('\n')[0]}): set REGISTRY_GATE_NODE_TOOLS or install Go and htpasswd`,
    };
  }
  const { issueCertificateAuthority, issueServingCertificate } = await import(
    join(root, 'dist/certs/issue.js')
  );
  const m = join(work, 'mirror');
  mkdirSync(join(m, 'storage'), { recursive: true });
  const now = new Date();
  const ca = await issueCertificateAuthority('registry-gate bench mirror CA', now, 1);
  const serving = await issueServingCertificate(ca, { dns: ['localhost'], ips: ['127.0.0.1'] }, now, 1);
  const file = (name, text) => {
    writeFileSync(join(m, name), text);
    return join(m, name);
  };
  const caFile = file('ca.crt', ca.cert);
  const { stdout: entry } = await run(htpasswd, ['-Bbn', ROBOT.username, ROBOT.password]);
  const host = `127.0.0.1:${port}`;
  const config = file(
    'registry.yml',
    `version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: ${join(m, 'storage')}}}
http:
  addr: ${host}
  secret: bench
  tls: {certificate: ${file('tls.crt', serving.cert)}, key: ${file('tls.key', serving.key)}}
auth: {htpasswd: {realm: bench, path: ${file('htpasswd', entry)}}}
`,
  );
  const child = spawn('taskset', ['-c', cpu, join(dir, 'registry'), 'serve', config], { stdio: 'ignore' });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  try {
    await waitReady(port, ca.cert);
    const auth = Buffer.from(`${ROBOT.username}:${ROBOT.password}`).toString('base64');
    const dockerConfig = JSON.stringify({ auths: { [host]: { auth } } });
    mkdirSync(join(m, 'docker'), { recursive: true });
    writeFileSync(join(m, 'docker', 'config.json'), dockerConfig);
    const crane = (...args) =>
      run(join(dir, 'crane'), args, {
        env: { PATH: process.env.PATH, HOME: m, DOCKER_CONFIG: join(m, 'docker'), SSL_CERT_FILE: caFile },
      });
    mkdirSync(join(m, 'layer'));
    writeFileSync(join(m, 'layer', 'hello.txt'), 'bench');
    await run('tar', ['-C', join(m, 'layer'), '-cf', join(m, 'layer.tar'), 'hello.txt']);
    const base = `${host}/bench/base:1`;
    await crane('append', '-f', join(m, 'layer.tar'), '-t', base);
    const images = new Set([
      ...DISTINCT_IMAGES,
      'docker.elastic.co/elasticsearch/elasticsearch:7.14.0', // the 8 KB Pod's
    ]);
    for (const image of images) await crane('copy', base, mirrored(host, image));

    const secrets = join(m, 'pull-secrets');
    const pullSecret = SMALL_POLICY.spec.pullSecrets[0].secretName;
    mkdirSync(join(secrets, pullSecret), { recursive: true });
    writeFileSync(join(secrets, pullSecret, '.dockerconfigjson'), dockerConfig);
    writeFileSync(join(work, 'mirror-off.yaml'), JSON.stringify(mirrorPolicy(host, {}, 'bench-mirror-off')));
    writeFileSync(
      join(work, 'mirror-on.yaml'),
      JSON.stringify(mirrorPolicy(host, { verify: 'enforce', pin: 'digest' }, 'bench-mirror-on')),
    );
    return {
      host,
      caFile,
      secretsDir: secrets,
      images: images.size,
      bodies: { pod8k: JSON.stringify(smallPodReview()), pod50c37: JSON.stringify(pod50c37()) },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
