import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import { formatReference } from '../reference/index.js';
import { evaluateImage, loadPolicyText, type CompiledPolicy } from '../policy/index.js';
import { exportPolicy } from './export.js';
import { importOpenShift, type ImportDocument } from './openshift.js';
import { policyDocument, policyText } from './policy-document.js';
import { readPolicyOrigins } from './policy-origins.js';
import { importRegistriesConf } from './registries-conf.js';
import type { ImportResult } from './rules.js';

const root = join(import.meta.dirname, '../../test/fixtures');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const yamlDocs = (text: string, file: string): ImportDocument[] =>
  parseAllDocuments(text).map((d) => ({ doc: d.toJS() as unknown, file }));
const openshift = (...paths: string[]): ImportResult =>
  importOpenShift(paths.flatMap((p) => yamlDocs(read(`openshift/${p}`), p)));

function toPolicy(result: ImportResult): { text: string; policy: CompiledPolicy } {
  if (!result.ok) throw new Error(result.errors.join('\n'));
  const text = policyText(policyDocument(result.rules));
  const loaded = loadPolicyText(text);
  if (!loaded.ok) throw new Error(`${loaded.errors.join('\n')}\n${text}`);
  return { text, policy: loaded.policy };
}
const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
const decide = (policy: CompiledPolicy, image: string) => {
  const d = evaluateImage(policy, image, { judge: 'final' });
  return { final: d.final ? formatReference(d.final) : null, decision: d.decision, code: d.code };
};

describe('imported policies decide as the nodes would pull', () => {
  const disconnected = toPolicy(openshift('image-allowed.yaml', 'icsp.yaml', 'mirror-sets.yaml')).policy;
  const blocking = toPolicy(openshift('image-blocked.yaml', 'icsp.yaml')).policy;
  it.each([
    {
      name: 'digest pull of the payload goes to the ICSP mirror',
      policy: disconnected,
      image: `quay.io/openshift-payload/release@${digest}`,
      final: `internal-mirror.io/openshift-payload/release@${digest}`,
      decision: 'allow',
    },
    {
      name: 'tag pull of the payload is left for the source (digest-only mirror)',
      policy: disconnected,
      image: 'quay.io/openshift-payload/release:4.16',
      final: 'quay.io/openshift-payload/release:4.16',
      decision: 'allow',
    },
    {
      name: 'tag pull from registry.redhat.io goes to the ITMS mirror',
      policy: disconnected,
      image: 'registry.redhat.io/ubi9/ubi:latest',
      final: 'mirror.corp.example.com:8443/redhat-tags/ubi9/ubi:latest',
      decision: 'allow',
    },
    {
      name: 'digest pull from registry.redhat.io goes to the IDMS mirror',
      policy: disconnected,
      image: `registry.redhat.io/ubi9/ubi@${digest}`,
      final: `mirror.corp.example.com:8443/redhat/ubi9/ubi@${digest}`,
      decision: 'allow',
    },
    {
      name: 'a short name is pinned to the first search registry',
      policy: disconnected,
      image: 'myapp:1',
      final: 'reg1.io/myapp:1',
      decision: 'allow',
    },
    {
      name: 'a registry outside allowedRegistries is denied',
      policy: disconnected,
      image: 'ghcr.io/x/y:1',
      final: 'ghcr.io/x/y:1',
      decision: 'deny',
    },
    {
      name: 'blocked payload: digest pull rewritten to the mirror, allowed',
      policy: blocking,
      image: `quay.io/openshift-payload/release@${digest}`,
      final: `internal-mirror.io/openshift-payload/release@${digest}`,
      decision: 'allow',
    },
    {
      name: 'blocked payload: tag pull denied (the node refuses it too)',
      policy: blocking,
      image: 'quay.io/openshift-payload/release:4.16',
      final: 'quay.io/openshift-payload/release:4.16',
      decision: 'deny',
    },
    {
      name: 'blocked untrusted.com',
      policy: blocking,
      image: 'untrusted.com/a:1',
      final: 'untrusted.com/a:1',
      decision: 'deny',
    },
  ])('$name', ({ policy, image, final, decision }) => {
    expect(decide(policy, image)).toMatchObject({ final, decision });
  });
});

describe('import -> export -> import round trips', () => {
  const shape = (result: ImportResult) => {
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const r = result.rules;
    const v = <T>(l: readonly { value: T }[] | null) => l?.map((x) => x.value) ?? null;
    return {
      mirrors: v(r.mirrors),
      blocked: v(r.blockedRegistries),
      insecure: v(r.insecureRegistries),
      search: r.shortNameRegistry?.value ?? null,
      aliases: v(r.aliases),
    };
  };

  it('registries.conf + shortnames.conf', () => {
    const first = importRegistriesConf([
      { file: 'registries.conf', text: read('registries-conf/registries.conf') },
      { file: 'shortnames.conf', text: read('registries-conf/shortnames.conf') },
    ]);
    const exported = exportPolicy(toPolicy(first).policy.spec, 'registries-conf');
    const second = importRegistriesConf([{ file: 'exported.conf', text: exported.text }]);
    expect(shape(second)).toEqual(shape(first));
  });

  it.each([
    { name: 'ICSP -> IDMS', files: ['icsp.yaml'], formats: ['idms'] as const },
    {
      name: 'IDMS + ITMS (NeverContactSource kept)',
      files: ['mirror-sets.yaml'],
      formats: ['idms', 'itms'] as const,
    },
  ])('$name', ({ files, formats }) => {
    const first = openshift(...files);
    const spec = toPolicy(first).policy.spec;
    const docs = formats.flatMap((f) => yamlDocs(exportPolicy(spec, f).text, `${f}.yaml`));
    const second = importOpenShift(docs);
    expect(shape(second).mirrors).toEqual(shape(first).mirrors);
    expect(shape(second).blocked).toEqual(shape(first).blocked);
  });

  it.each([
    {
      name: 'a prefix with another location (a rewrite with no fallback)',
      conf: '[[registry]]\nprefix = "example.com/foo"\nlocation = "internal.corp/example/foo"\n',
      tables: [{ prefix: 'example.com/foo', location: 'internal.corp/example/foo' }],
    },
    {
      name: 'a remapped location with a digest-only mirror',
      conf:
        '[[registry]]\nprefix = "example.com/foo"\nlocation = "internal.corp/foo"\n' +
        '[[registry.mirror]]\nlocation = "d.corp/foo"\npull-from-mirror = "digest-only"\n',
      tables: [
        {
          prefix: 'example.com/foo',
          location: 'internal.corp/foo',
          mirror: [{ location: 'd.corp/foo', 'pull-from-mirror': 'digest-only' }],
        },
      ],
    },
  ])(
    'registries.conf: $name keeps its meaning for the nodes through import and export',
    ({ conf, tables }) => {
      const search = 'unqualified-search-registries = ["docker.io"]\n';
      const first = importRegistriesConf([{ file: 'registries.conf', text: search + conf }]);
      const exported = exportPolicy(toPolicy(first).policy.spec, 'registries-conf');
      // The nodes never contact example.com: no table may send a pull back to it.
      expect((parseToml(exported.text) as { registry?: unknown[] }).registry).toEqual(tables);
      const second = importRegistriesConf([{ file: 'exported.conf', text: exported.text }]);
      expect(shape(second)).toEqual(shape(first));
    },
  );

  it('export says what the format cannot carry', () => {
    const spec = toPolicy(openshift('image-allowed.yaml', 'mirror-sets.yaml')).policy.spec;
    expect(exportPolicy(spec, 'registries-conf').notes.join('\n')).toMatch(
      /allowedRegistries has no registries.conf form/,
    );
    expect(exportPolicy(spec, 'idms').notes.join('\n')).toMatch(
      /1 tagOnly mirror\(s\) belong in an ImageTagMirrorSet/,
    );
    expect(exportPolicy(spec, 'itms').text).toMatch(/^# note: /m);
  });

  it('mirror verification has no node form: export names it and leaves it out, the routes stay', () => {
    const loaded = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors:
    - {source: docker.io, mirror: mirror.corp/hub, verify: enforce, pin: digest}
    - {source: quay.io, mirror: mirror.corp/quay}
`);
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    for (const format of ['registries-conf', 'idms', 'itms'] as const) {
      const exported = exportPolicy(loaded.policy.spec, format);
      expect(exported.notes).toContain(
        'spec.mirrors[0] (docker.io) verify: enforce, pin: digest is checked at admission only; no node equivalent, left out',
      );
      expect(exported.notes.join('\n')).not.toMatch(/spec\.mirrors\[1\]/);
      expect(exported.text).not.toMatch(/^[^#]*(verify|pin|onError)/m);
    }
    const back = importRegistriesConf([
      { file: 'exported.conf', text: exportPolicy(loaded.policy.spec, 'registries-conf').text },
    ]);
    expect(shape(back).mirrors).toEqual([
      { source: 'docker.io', mirror: 'mirror.corp/hub', digestOnly: false, tagOnly: false },
      { source: 'quay.io', mirror: 'mirror.corp/quay', digestOnly: false, tagOnly: false },
    ]);
  });
});

describe('origin comments', () => {
  it('survive the YAML and are read back by field path', () => {
    const { text } = toPolicy(openshift('image-blocked.yaml', 'icsp.yaml'));
    const origins = readPolicyOrigins(text);
    expect(origins.get('spec.mirrors[0]')).toEqual([
      'ImageContentSourcePolicy/my-icsp (icsp.yaml) spec.repositoryDigestMirrors[0].mirrors[0]',
    ]);
    expect(origins.get('spec.registrySources.blockedRegistries[0]')).toEqual([
      'Image/cluster (image-blocked.yaml) spec.registrySources.blockedRegistries[0]',
    ]);
    expect(origins.get('spec.registrySources.blockedRegistries[2]')).toEqual([
      'Image/cluster (image-blocked.yaml) spec.registrySources.blockedRegistries[2]',
    ]);
  });

  it('a policy without comments has none', () => {
    expect(
      readPolicyOrigins('apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec: {}\n').size,
    ).toBe(0);
  });

  it('extends a base policy: its entries first, the imported after', () => {
    const result = openshift('icsp.yaml');
    if (!result.ok) throw new Error();
    const base = {
      apiVersion: 'registry-gate.io/v1alpha1',
      kind: 'RegistryPolicy',
      metadata: { name: 'live' },
      spec: {
        mode: 'warn',
        mirrors: [{ source: 'docker.io', mirror: 'm.corp/hub' }],
        sources: { openshift: true },
      },
    };
    const loaded = loadPolicyText(policyText(policyDocument(result.rules, { base })));
    if (!loaded.ok) throw new Error(loaded.errors.join());
    expect(loaded.policy.spec.name).toBe('live');
    expect(loaded.policy.spec.mode).toBe('warn');
    expect(loaded.policy.spec.sources.openshift).toBe(true);
    expect(loaded.policy.spec.mirrors.map((m) => m.source)).toEqual([
      'docker.io',
      'quay.io/openshift-payload',
    ]);
  });
});
