// `registry-gate policy import|export` and explain's origins, run in-process through runCli with real files.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';
import { EXPLAIN_CONTRACT_FIELDS } from './helpers/explain-contract.js';

const fixtures = new URL('fixtures/', import.meta.url).pathname;
const os = (name: string): string => join(fixtures, 'openshift', name);
const conf = (name: string): string => join(fixtures, 'registries-conf', name);

async function tempFile(name: string, text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'rg-import-')), name);
  await writeFile(path, text);
  return path;
}

describe('registry-gate policy import', () => {
  it('imports an IDMS with a wildcard source (the CRD accepts it): that entry left out with a note, exit 0', async () => {
    const idms = await tempFile(
      'wild.yaml',
      'apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: wild}\nspec:\n' +
        '  imageDigestMirrors:\n' +
        '    - {source: "*.example.com", mirrors: [mirror.corp/any]}\n' +
        '    - {source: quay.io/x, mirrors: [mirror.corp/x]}\n',
    );
    const r = await cli(['policy', 'import', '--from', 'openshift', idms]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^# note: .*the wildcard source "\*\.example\.com" is left out/m);
    expect(r.stdout).toContain('{ source: quay.io/x, mirror: mirror.corp/x, digestOnly: true }');
  });

  it('prints a valid RegistryPolicy with an origin comment before every rule', async () => {
    const r = await cli([
      'policy',
      'import',
      '--from',
      'openshift',
      os('image-blocked.yaml'),
      os('icsp.yaml'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      '    # origin: ImageContentSourcePolicy/my-icsp (icsp.yaml) spec.repositoryDigestMirrors[0].mirrors[0]\n' +
        '    - { source: quay.io/openshift-payload, mirror: internal-mirror.io/openshift-payload, digestOnly: true }\n',
    );
    const policy = await tempFile('policy.yaml', r.stdout);
    expect((await cli(['policy', 'check', policy])).code).toBe(0);
  });

  it('guesses registries-conf from .conf files', async () => {
    const r = await cli([
      'policy',
      'import',
      '--name',
      'nodes',
      conf('registries.conf'),
      conf('shortnames.conf'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/name: nodes/);
    expect(r.stdout).toContain('# origin: shortnames.conf aliases."nginx"');
  });

  it('exits 2 naming the entry of a malformed document', async () => {
    const bad = await tempFile(
      'bad.yaml',
      'apiVersion: config.openshift.io/v1\nkind: ImageTagMirrorSet\nmetadata: {name: t}\nspec:\n  imageTagMirrors:\n    - {source: q.io, mirrors: m.io}\n',
    );
    const r = await cli(['policy', 'import', '--from', 'openshift', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'ImageTagMirrorSet/t (bad.yaml) spec.imageTagMirrors[0].mirrors: must be a list of strings',
    );
  });

  it('exits 1 with the policy errors when the documents map to an invalid policy', async () => {
    const both = await tempFile(
      'image.yaml',
      'apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  registrySources: {allowedRegistries: [a.io], blockedRegistries: [b.io]}\n',
    );
    const r = await cli(['policy', 'import', '--from', 'openshift', both]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spec.registrySources: set allowedRegistries or blockedRegistries, not both/);
  });

  it('exits 2 on an unknown --from and on a missing file', async () => {
    expect((await cli(['policy', 'import', '--from', 'docker', 'x'])).code).toBe(2);
    const missing = await cli(['policy', 'import', '--from', 'openshift', '/nonexistent/x.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/x.yaml/);
  });
});

describe('registry-gate policy export', () => {
  it.each([
    {
      format: 'registries-conf',
      expected:
        /\[\[registry\]\]\nprefix = "quay.io\/openshift-payload"\nlocation = "quay.io\/openshift-payload"\nblocked = true/,
    },
    { format: 'idms', expected: /kind: ImageDigestMirrorSet[\s\S]*mirrorSourcePolicy: NeverContactSource/ },
    { format: 'itms', expected: /kind: ImageTagMirrorSet/ },
  ])('--format $format', async ({ format, expected }) => {
    const imported = await cli([
      'policy',
      'import',
      '--from',
      'openshift',
      os('image-blocked.yaml'),
      os('icsp.yaml'),
    ]);
    const policy = await tempFile('policy.yaml', imported.stdout);
    const r = await cli(['policy', 'export', '--format', format, '--policy', policy]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(expected);
  });

  it('refuses an unknown format', async () => {
    expect((await cli(['policy', 'export', '--format', 'json'])).code).toBe(2);
  });
});

describe('registry-gate explain with an imported policy', () => {
  it('names the document and entry behind each decision (text and JSON)', async () => {
    const imported = await cli([
      'policy',
      'import',
      '--from',
      'openshift',
      os('image-blocked.yaml'),
      os('icsp.yaml'),
    ]);
    const policy = await tempFile('policy.yaml', imported.stdout);
    const text = await cli(['explain', '--policy', policy, 'untrusted.com/app:1']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      '  origin    rule: Image/cluster (image-blocked.yaml) spec.registrySources.blockedRegistries[0]',
    );
    const json = await cli([
      'explain',
      '--policy',
      policy,
      '-o',
      'json',
      `quay.io/openshift-payload/r@sha256:${'a'.repeat(64)}`,
    ]);
    const record = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(record).slice(0, EXPLAIN_CONTRACT_FIELDS.length)).toEqual([
      ...EXPLAIN_CONTRACT_FIELDS,
    ]);
    expect(record.origins).toEqual([
      'mirror: ImageContentSourcePolicy/my-icsp (icsp.yaml) spec.repositoryDigestMirrors[0].mirrors[0]',
    ]);
  });
});
