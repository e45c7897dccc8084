import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { EXPLAIN_CONTRACT_FIELDS } from '../helpers/explain-contract.js';
import { labTools, startRegistryLab, type RegistryLab } from '../helpers/registry-lab.js';

const tools = await labTools();
if (typeof tools === 'string') console.warn(`explain/audit --check-mirror tests skipped: ${tools}`);

describe.skipIf(typeof tools === 'string')('explain and audit --check-mirror against real registries', () => {
  let lab: RegistryLab;
  let policy: string;
  let secrets: string;
  let B: string;

  beforeAll(async () => {
    if (typeof tools === 'string') return;
    lab = await startRegistryLab(tools);
    B = lab.basic.host;
    secrets = lab.pullSecretsDir;
    await lab.writePullSecret('robot');
    policy = join(lab.dir, 'policy.yaml');
    await writeFile(
      policy,
      `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors:
    - {source: docker.io, mirror: ${B}, verify: enforce, pin: digest}
    - {source: quay.io, mirror: ${lab.token.host}}
  pullSecrets:
    - {registry: ${B}, secretName: robot}
    - {registry: ${lab.token.host}, secretName: robot}
`,
    );
  }, 900_000);
  afterAll(async () => {
    await lab?.stop();
  });

  /** `explain --check-mirror` with the lab's policy: JSON, the lab's secrets and CA unless told otherwise. */
  const explainWith = (
    options: { text?: boolean; secrets?: string | null; ca?: string | null },
    ...images: string[]
  ) => {
    const { secrets: dir = secrets, ca = lab.pki.caFile } = options;
    return cli([
      'explain',
      '--policy',
      policy,
      ...(options.text === true ? [] : ['-o', 'json']),
      '--check-mirror',
      ...(dir === null ? [] : ['--pull-secrets-dir', dir]),
      ...(ca === null ? [] : ['--mirror-ca-file', ca]),
      ...images,
    ]);
  };
  const explain = (...images: string[]) => explainWith({}, ...images);
  const records = (stdout: string): Record<string, unknown>[] =>
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('found: the digest and the HTTP status; with pin: digest, final carries the digest; exit 0', async () => {
    const r = await explain('app/one:1.0');
    expect(r.code).toBe(0);
    const [record] = records(r.stdout);
    expect(Object.keys(record ?? {})).toEqual([...EXPLAIN_CONTRACT_FIELDS, 'mirrorCheck']);
    expect(record).toMatchObject({
      final: `${B}/app/one:1.0@${lab.images.one}`,
      decision: 'allow',
      mirrorCheck: { status: 'found', digest: lab.images.one, httpStatus: 200, reason: null },
    });
  });

  it('missing under verify: enforce: denied NOT_IN_MIRROR, exit 1; other mirrors are asked whatever verify says', async () => {
    const r = await explain('app/nope:1.0', 'quay.io/app/two:1.0', 'quay.io/app/gone:1', 'ghcr.io/org/x:1');
    expect(r.code).toBe(1);
    const [nope, two, gone, ghcr] = records(r.stdout);
    expect(nope).toMatchObject({
      decision: 'deny',
      code: 'NOT_IN_MIRROR',
      final: `${B}/app/nope:1.0`,
      mirrorCheck: {
        status: 'missing',
        digest: null,
        httpStatus: 404,
        reason: 'not in the mirror (HTTP 404)',
      },
    });
    // verify: off on that mirror: asked because explain was told to, and nothing else changes.
    expect(two).toMatchObject({
      decision: 'allow',
      final: `${lab.token.host}/app/two:1.0`,
      mirrorCheck: { status: 'found', digest: lab.images.two },
    });
    expect(gone).toMatchObject({ decision: 'allow', mirrorCheck: { status: 'missing', httpStatus: 404 } });
    expect(ghcr).toMatchObject({
      decision: 'allow',
      mirrorCheck: { status: 'skipped', digest: null, httpStatus: null, reason: 'not on a mirror' },
    });
  });

  it('text output shows status and digest', async () => {
    const r = await explainWith({ text: true }, 'app/one:1.0', 'app/nope:1.0');
    expect(r.stdout).toContain(`  mirror    found ${lab.images.one} (HTTP 200)`);
    expect(r.stdout).toContain('  mirror    missing: not in the mirror (HTTP 404)');
    expect(r.stdout).toContain('  decision  deny NOT_IN_MIRROR');
  });

  it('without credentials the answer says why, and without the CA, that the certificate is not trusted', async () => {
    const noSecrets = await explainWith({ secrets: null }, 'app/one:1.0');
    expect(records(noSecrets.stdout)[0]?.['mirrorCheck']).toMatchObject({
      status: 'error',
      httpStatus: 401,
      reason: expect.stringContaining('no --pull-secrets-dir given') as string,
    });
    const noCa = await explainWith({ ca: null }, 'app/one:1.0');
    expect(records(noCa.stdout)[0]?.['mirrorCheck']).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/^TLS: /) as string,
    });
  });

  it('a --mirror-ca-file that is not a certificate is a usage error (exit 2)', async () => {
    const r = await explainWith({ text: true, secrets: null, ca: policy }, 'nginx');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds no PEM certificate');
  });

  it('without --check-mirror nothing is asked and the record is the contract', async () => {
    const r = await cli(['explain', '--policy', policy, '-o', 'json', 'app/nope:1.0']);
    expect(r.code).toBe(0);
    expect(Object.keys(records(r.stdout)[0] ?? {})).toEqual([...EXPLAIN_CONTRACT_FIELDS]);
  });

  it('audit --check-mirror reports what the webhook would deny, with the answer', async () => {
    const manifest = join(lab.dir, 'app.yaml');
    await writeFile(
      manifest,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
        - {name: web, image: "app/one:1.0"}
        - {name: sidecar, image: "app/nope:1.0"}
`,
    );
    const base = ['audit', '--policy', policy, '-o', 'json', manifest];
    expect((await cli(base)).code).toBe(0);
    const r = await cli([
      ...base,
      '--check-mirror',
      '--pull-secrets-dir',
      secrets,
      '--mirror-ca-file',
      lab.pki.caFile,
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: Record<string, unknown>[] };
    expect(report.findings.map((f) => [f['container'], f['decision'], f['code'], f['final']])).toEqual([
      ['sidecar', 'deny', 'NOT_IN_MIRROR', `${B}/app/nope:1.0`],
      ['web', 'allow', null, `${B}/app/one:1.0@${lab.images.one}`],
    ]);
    expect(report.findings[1]?.['mirrorCheck']).toEqual({
      status: 'found',
      digest: lab.images.one,
      httpStatus: 200,
    });
  });
});
