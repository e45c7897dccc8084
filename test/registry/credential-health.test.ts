import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MIRROR_OPTIONS } from '../../src/runtime/mirror-verification.js';
import { freePort } from '../helpers/registry-faults.js';
import { ROBOT, labTools, startRegistryLab, type RegistryLab } from '../helpers/registry-lab.js';
import { startTestWebhook, type TestWebhook } from '../helpers/webhook.js';

const tools = await labTools();
if (typeof tools === 'string') console.warn(`credential health tests skipped: ${tools}`);

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 100; i++) {
    last = await get();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)}`);
}

describe.skipIf(typeof tools === 'string')("serve checks each verified mirror's pull secret", () => {
  let lab: RegistryLab;
  let gate: TestWebhook;
  let secretsDir: string;
  let B: string;
  let T: string;
  let gone: string;

  const writeSecret = (name: string, text: string): Promise<void> => lab.writePullSecret(name, text);
  const readyz = async (): Promise<{ status: number; checks: Record<string, string> }> => {
    const res = await gate.get('/readyz');
    return { status: res.status, checks: (res.body as { checks: Record<string, string> }).checks };
  };

  beforeAll(async () => {
    if (typeof tools === 'string') return;
    lab = await startRegistryLab(tools);
    B = lab.basic.host;
    T = lab.token.host;
    gone = `127.0.0.1:${await freePort()}`;
    secretsDir = lab.pullSecretsDir;
    await writeSecret('good', lab.dockerConfig());
    await writeSecret('rotated', lab.dockerConfig({ ...ROBOT, password: 'last-night' }));
    await writeSecret('broken', '{"auths": ');
    const policy = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors:
    - {source: docker.io, mirror: ${B}/hub, verify: warn}
    - {source: quay.io, mirror: ${T}/quay, verify: enforce}
    - {source: gcr.io, mirror: ${B}/gcr, verify: warn}
    - {source: ghcr.io, mirror: ${B}/ghcr, verify: warn}
    - {source: registry.k8s.io, mirror: ${B}/k8s, verify: warn}
    - {source: public.ecr.aws, mirror: ${T}/ecr, verify: warn}
    - {source: nvcr.io, mirror: ${gone}/nv, verify: warn}
    - {source: mcr.microsoft.com, mirror: ${B}/mcr}
  pullSecrets:
    - {registry: ${B}/hub, secretName: good}
    - {registry: ${T}/quay, secretName: rotated}
    - {registry: ${B}/gcr, secretName: broken}
    - {registry: ${B}/ghcr, secretName: absent}
`;
    gate = await startTestWebhook(policy, {
      mirrors: {
        ...DEFAULT_MIRROR_OPTIONS,
        pullSecretsDir: secretsDir,
        caFile: lab.pki.caFile,
        healthIntervalMs: 300,
      },
    });
  }, 900_000);
  afterAll(async () => {
    await gate?.stop();
    await lab?.stop();
  });

  it('names each state and its reason in /readyz, and stays ready', async () => {
    const { status, checks } = await until(
      'first check',
      readyz,
      (r) => !Object.values(r.checks).some((c) => c.includes('not checked yet')),
    );
    expect(status).toBe(200);
    expect(checks[`mirror ${B}/hub`]).toBe('credentials ok: Secret good authenticates');
    expect(checks[`mirror ${T}/quay`]).toBe(
      'credentials rejected: Secret rotated: the mirror refused its credentials (HTTP 401)',
    );
    expect(checks[`mirror ${B}/gcr`]).toMatch(
      /^credentials malformed: Secret broken: .*broken.*is not JSON$/,
    );
    expect(checks[`mirror ${B}/ghcr`]).toMatch(
      /^credentials missing: Secret absent: .*absent.*does not exist$/,
    );
    expect(checks[`mirror ${B}/k8s`]).toBe(
      'credentials missing: no spec.pullSecrets entry covers it, and it asks for credentials (HTTP 401)',
    );
    expect(checks[`mirror ${T}/ecr`]).toBe(
      'credentials anonymous: no pull secret is injected for it; it answers without one',
    );
    expect(checks[`mirror ${gone}/nv`]).toMatch(/^credentials unreachable: .*ECONNREFUSED/);
    // verify: off is not checked at all.
    expect(Object.keys(checks).filter((k) => k.includes('/mcr'))).toEqual([]);
  });

  it('a gauge per mirror and state; a warn line per bad mirror, without the secret', async () => {
    const metrics = (await gate.get('/metrics')).text;
    expect(metrics).toContain(`registry_gate_mirror_credentials{mirror="${B}/hub",state="ok"} 1`);
    expect(metrics).toContain(`registry_gate_mirror_credentials{mirror="${B}/hub",state="rejected"} 0`);
    expect(metrics).toContain(`registry_gate_mirror_credentials{mirror="${T}/quay",state="rejected"} 1`);
    const warned = gate.logs
      .filter((l) => l['msg'] === 'mirror credentials do not work')
      .map((l) => l['mirror']);
    expect(new Set(warned)).toEqual(
      new Set([`${T}/quay`, `${B}/gcr`, `${B}/ghcr`, `${B}/k8s`, `${gone}/nv`]),
    );
    const all = gate.rawLogs.join('\n');
    for (const secret of [
      ROBOT.password,
      'last-night',
      Buffer.from(`${ROBOT.username}:`).toString('base64').slice(0, 8),
    ])
      expect(all).not.toContain(secret);
  });

  it('a rotated password is reported within the check period, and its repair too', async () => {
    await writeSecret('good', lab.dockerConfig({ ...ROBOT, password: 'rotated-in-the-registry-only' }));
    await until(
      'rotation seen',
      readyz,
      (r) => r.checks[`mirror ${B}/hub`]?.startsWith('credentials rejected') === true,
    );
    await writeSecret('good', lab.dockerConfig());
    await until(
      'repair seen',
      readyz,
      (r) => r.checks[`mirror ${B}/hub`]?.startsWith('credentials ok') === true,
    );
    expect(
      gate.logs.some((l) => l['msg'] === 'mirror credentials work again' && l['mirror'] === `${B}/hub`),
    ).toBe(true);
  });
});
