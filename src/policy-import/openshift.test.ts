import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadPolicyText } from '../policy/index.js';
import { importOpenShift, type ImportDocument } from './openshift.js';
import { policyDocument, policyText } from './policy-document.js';
import type { ImportedRules } from './rules.js';

const fixtures = join(import.meta.dirname, '../../test/fixtures/openshift');
function fixture(name: string): ImportDocument[] {
  return parseAllDocuments(readFileSync(join(fixtures, name), 'utf8')).map((d) => ({
    doc: d.toJS() as unknown,
    file: name,
  }));
}
const doc = (object: unknown, file = 'in.yaml'): ImportDocument => ({ doc: object, file });
const image = (registrySources: unknown, extra: Record<string, unknown> = {}): ImportDocument =>
  doc({
    apiVersion: 'config.openshift.io/v1',
    kind: 'Image',
    metadata: { name: 'cluster' },
    spec: { registrySources, ...extra },
  });
const mirrorSet = (
  kind: 'ImageDigestMirrorSet' | 'ImageTagMirrorSet' | 'ImageContentSourcePolicy',
  name: string,
  entries: unknown[],
): ImportDocument => {
  const field = {
    ImageDigestMirrorSet: 'imageDigestMirrors',
    ImageTagMirrorSet: 'imageTagMirrors',
    ImageContentSourcePolicy: 'repositoryDigestMirrors',
  }[kind];
  const apiVersion =
    kind === 'ImageContentSourcePolicy' ? 'operator.openshift.io/v1alpha1' : 'config.openshift.io/v1';
  return doc({ apiVersion, kind, metadata: { name }, spec: { [field]: entries } });
};

function rules(documents: ImportDocument[]): ImportedRules {
  const result = importOpenShift(documents);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.rules;
}
const values = <T>(list: readonly { value: T }[] | null): T[] | null => list?.map((x) => x.value) ?? null;

describe('importOpenShift: Image/cluster', () => {
  it.each([
    {
      name: 'allowedRegistries (docs example, with search registries and an insecure one)',
      docs: fixture('image-allowed.yaml'),
      allowed: [
        'example.com',
        'quay.io',
        'registry.redhat.io',
        'reg1.io',
        'reg2.io',
        'reg3.io',
        'image-registry.openshift-image-registry.svc:5000',
        'reg1.io/myrepo/myapp:latest',
      ],
      blocked: null,
      insecure: ['insecure.com'],
      search: 'reg1.io',
    },
    {
      name: 'blockedRegistries (docs example)',
      docs: fixture('image-blocked.yaml'),
      allowed: null,
      blocked: ['untrusted.com', 'reg1.io/myrepo/myapp:latest', 'quay.io/openshift-payload'],
      insecure: [],
      search: null,
    },
    {
      name: 'no registrySources',
      docs: [image(undefined)],
      allowed: null,
      blocked: null,
      insecure: [],
      search: null,
    },
    {
      name: 'one search registry',
      docs: [image({ containerRuntimeSearchRegistries: ['registry.corp.io'] })],
      allowed: null,
      blocked: null,
      insecure: [],
      search: 'registry.corp.io',
    },
  ])('$name', ({ docs, allowed, blocked, insecure, search }) => {
    const r = rules(docs);
    expect(values(r.allowedRegistries)).toEqual(allowed);
    expect(values(r.blockedRegistries)).toEqual(blocked);
    expect(values(r.insecureRegistries)).toEqual(insecure);
    expect(r.shortNameRegistry?.value ?? null).toEqual(search);
  });

  it('names the entry each registry came from', () => {
    const r = rules(fixture('image-blocked.yaml'));
    expect(r.blockedRegistries?.[2]?.origins).toEqual([
      { document: 'Image/cluster (image-blocked.yaml)', entry: 'spec.registrySources.blockedRegistries[2]' },
    ]);
  });

  it('pins short names to the first of several search registries, and says so', () => {
    const r = rules(fixture('image-allowed.yaml'));
    expect(r.shortNameRegistry?.origins[0]?.entry).toBe(
      'spec.registrySources.containerRuntimeSearchRegistries[0]',
    );
    expect(r.notes.join('\n')).toMatch(
      /reg1\.io, reg2\.io, reg3\.io: short names are pinned to the first, reg1\.io/,
    );
  });

  it.each([
    'allowedRegistriesForImport',
    'externalRegistryHostnames',
    'additionalTrustedCA',
    'imageStreamImportMode',
  ])('notes that spec.%s has no admission meaning', (field) => {
    const r = rules([image({}, { [field]: [] })]);
    expect(r.notes.join('\n')).toContain(`spec.${field}: no admission meaning`);
  });

  it('reads only the Image named cluster, as the nodes do', () => {
    const other = doc({
      apiVersion: 'config.openshift.io/v1',
      kind: 'Image',
      metadata: { name: 'other' },
      spec: { registrySources: { blockedRegistries: ['x.io'] } },
    });
    const r = rules([other]);
    expect(r.blockedRegistries).toBeNull();
    expect(r.notes[0]).toMatch(/Image\/other.*ignored/);
  });
});

describe('importOpenShift: mirror sets', () => {
  const digest = (source: string, mirrors: string[], extra: Record<string, unknown> = {}) => ({
    source,
    mirrors,
    ...extra,
  });

  it.each([
    {
      name: 'ICSP (docs example): digest-only mirror',
      docs: fixture('icsp.yaml'),
      mirrors: [
        {
          source: 'quay.io/openshift-payload',
          mirror: 'internal-mirror.io/openshift-payload',
          digestOnly: true,
          tagOnly: false,
        },
      ],
      blocked: null,
    },
    {
      name: 'IDMS: digest-only; NeverContactSource blocks the source',
      docs: [
        mirrorSet('ImageDigestMirrorSet', 'a', [
          digest('registry.redhat.io', ['mirror.corp/redhat'], { mirrorSourcePolicy: 'NeverContactSource' }),
        ]),
      ],
      mirrors: [
        { source: 'registry.redhat.io', mirror: 'mirror.corp/redhat', digestOnly: true, tagOnly: false },
      ],
      blocked: ['registry.redhat.io'],
    },
    {
      name: 'IDMS: AllowContactingSource leaves the source open',
      docs: [
        mirrorSet('ImageDigestMirrorSet', 'a', [
          digest('registry.redhat.io', ['mirror.corp/redhat'], {
            mirrorSourcePolicy: 'AllowContactingSource',
          }),
        ]),
      ],
      mirrors: [
        { source: 'registry.redhat.io', mirror: 'mirror.corp/redhat', digestOnly: true, tagOnly: false },
      ],
      blocked: null,
    },
    {
      name: 'ITMS: tag-only mirror',
      docs: [mirrorSet('ImageTagMirrorSet', 't', [digest('docker.io', ['mirror.corp/hub'])])],
      mirrors: [{ source: 'docker.io', mirror: 'mirror.corp/hub', digestOnly: false, tagOnly: true }],
      blocked: null,
    },
    {
      name: 'IDMS and ICSP for one source merge; the first mirror in node order wins',
      docs: [
        mirrorSet('ImageContentSourcePolicy', 'old', [digest('quay.io/ocp', ['m2.corp/ocp'])]),
        mirrorSet('ImageDigestMirrorSet', 'new', [digest('quay.io/ocp', ['m1.corp/ocp', 'm2.corp/ocp'])]),
      ],
      mirrors: [{ source: 'quay.io/ocp', mirror: 'm1.corp/ocp', digestOnly: true, tagOnly: false }],
      blocked: null,
    },
    {
      name: 'a digest and a tag set for one source give a digestOnly and a tagOnly rule',
      docs: fixture('mirror-sets.yaml'),
      mirrors: [
        {
          source: 'quay.io/openshift-release-dev/ocp-release',
          mirror: 'mirror.corp.example.com:8443/ocp/release',
          digestOnly: true,
          tagOnly: false,
        },
        {
          source: 'quay.io/openshift-release-dev/ocp-v4.0-art-dev',
          mirror: 'mirror.corp.example.com:8443/ocp/release',
          digestOnly: true,
          tagOnly: false,
        },
        {
          source: 'registry.redhat.io',
          mirror: 'mirror.corp.example.com:8443/redhat',
          digestOnly: true,
          tagOnly: false,
        },
        {
          source: 'registry.redhat.io',
          mirror: 'mirror.corp.example.com:8443/redhat-tags',
          digestOnly: false,
          tagOnly: true,
        },
      ],
      blocked: [
        'quay.io/openshift-release-dev/ocp-release',
        'quay.io/openshift-release-dev/ocp-v4.0-art-dev',
      ],
    },
    {
      name: 'a set whose source is listed first rewrites nothing',
      docs: [mirrorSet('ImageDigestMirrorSet', 'a', [digest('quay.io/x', ['quay.io/x', 'mirror.corp/x'])])],
      mirrors: [],
      blocked: null,
    },
  ])('$name', ({ docs, mirrors, blocked }) => {
    const r = rules(docs);
    expect(values(r.mirrors)).toEqual(mirrors);
    expect(values(r.blockedRegistries)).toEqual(blocked);
  });

  it('names the mirror entry a rule came from', () => {
    const r = rules(fixture('mirror-sets.yaml'));
    expect(r.mirrors[2]?.origins).toEqual([
      {
        document: 'ImageDigestMirrorSet/operators (mirror-sets.yaml)',
        entry: 'spec.imageDigestMirrors[0].mirrors[0]',
      },
    ]);
    expect(r.blockedRegistries?.[0]?.origins[0]?.entry).toBe('spec.imageDigestMirrors[0].mirrorSourcePolicy');
  });

  it('adds the mirrors to allowedRegistries (nodes judge the source, admission the rewritten image)', () => {
    const r = rules([...fixture('image-allowed.yaml'), ...fixture('icsp.yaml')]);
    expect(values(r.allowedRegistries)).toContain('internal-mirror.io/openshift-payload');
    expect(r.allowedRegistries?.at(-1)?.origins[0]?.document).toBe(
      'ImageContentSourcePolicy/my-icsp (icsp.yaml)',
    );
  });

  it('with allowedRegistries set, NeverContactSource cannot block the source: says so instead', () => {
    const r = rules([
      image({ allowedRegistries: ['quay.io', 'mirror.corp'] }),
      mirrorSet('ImageDigestMirrorSet', 'a', [
        digest('quay.io/x', ['mirror.corp/x'], { mirrorSourcePolicy: 'NeverContactSource' }),
      ]),
    ]);
    expect(r.blockedRegistries).toBeNull();
    expect(values(r.allowedRegistries)).toEqual(['quay.io', 'mirror.corp']);
    expect(r.notes.join('\n')).toMatch(/NeverContactSource for quay\.io\/x: admission cannot also block it/);
  });

  it('adds a NeverContactSource source to the Image blockedRegistries once', () => {
    const r = rules([
      image({ blockedRegistries: ['quay.io/x'] }),
      mirrorSet('ImageDigestMirrorSet', 'a', [
        digest('quay.io/x', ['mirror.corp/x'], { mirrorSourcePolicy: 'NeverContactSource' }),
      ]),
    ]);
    expect(values(r.blockedRegistries)).toEqual(['quay.io/x']);
  });
});

describe('importOpenShift: errors', () => {
  it.each([
    {
      name: 'another kind',
      docs: [doc({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })],
      error:
        /ConfigMap\/x \(in\.yaml\): apiVersion v1, kind ConfigMap is not an OpenShift image configuration/,
    },
    {
      name: 'a scalar document',
      docs: [doc('hello')],
      error: /in\.yaml: each document must be a Kubernetes object/,
    },
    {
      name: 'a bad mirrorSourcePolicy',
      docs: [
        mirrorSet('ImageDigestMirrorSet', 'a', [
          { source: 'q.io', mirrors: ['m.io'], mirrorSourcePolicy: 'Never' },
        ]),
      ],
      error:
        /ImageDigestMirrorSet\/a \(in\.yaml\) spec\.imageDigestMirrors\[0\]\.mirrorSourcePolicy: must be AllowContactingSource or NeverContactSource/,
    },
    {
      name: 'a mirror that is not a string',
      docs: [mirrorSet('ImageTagMirrorSet', 't', [{ source: 'q.io', mirrors: [5] }])],
      error: /spec\.imageTagMirrors\[0\]\.mirrors\[0\]: must be a string/,
    },
    {
      name: 'no source',
      docs: [mirrorSet('ImageContentSourcePolicy', 'c', [{ mirrors: ['m.io'] }])],
      error: /spec\.repositoryDigestMirrors\[0\]\.source: is required/,
    },
    {
      name: 'a mirrorSourcePolicy on an ICSP (it has none)',
      docs: [
        mirrorSet('ImageContentSourcePolicy', 'c', [
          { source: 'q.io', mirrors: ['m.io'], mirrorSourcePolicy: 'NeverContactSource' },
        ]),
      ],
      error: /spec\.repositoryDigestMirrors\[0\]\.mirrorSourcePolicy: unknown field/,
    },
    {
      name: 'registrySources lists that are not lists',
      docs: [image({ allowedRegistries: 'quay.io' })],
      error: /spec\.registrySources\.allowedRegistries: must be a list of strings/,
    },
  ])('$name', ({ docs, error }) => {
    const result = importOpenShift(docs);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(error);
  });

  it('flattens a List, as `oc get … -o yaml` prints several objects', () => {
    expect(rules(fixture('mirror-sets.yaml')).mirrors).toHaveLength(4);
  });
});

describe('importOpenShift: a wildcard source, which the CRDs accept and OpenShift documents', () => {
  const wild = mirrorSet('ImageDigestMirrorSet', 'wild', [
    { source: '*.example.com', mirrors: ['m.corp/any'], mirrorSourcePolicy: 'NeverContactSource' },
    { source: 'quay.io/x', mirrors: ['m.corp/x'] },
  ]);

  it('drops that entry, says so, and keeps every other one', () => {
    const r = rules([wild]);
    expect(values(r.mirrors)).toEqual([
      { source: 'quay.io/x', mirror: 'm.corp/x', digestOnly: true, tagOnly: false },
    ]);
    expect(values(r.blockedRegistries)).toBeNull();
    expect(r.dropped).toEqual([
      expect.stringMatching(
        /^ImageDigestMirrorSet\/wild \(in\.yaml\) spec\.imageDigestMirrors\[0\]: the wildcard source "\*\.example\.com"/,
      ),
    ]);
    expect(r.notes).toContain(r.dropped[0]);
  });

  it('the policy made from it is valid', () => {
    const loaded = loadPolicyText(policyText(policyDocument(rules([wild]))));
    expect(loaded.ok ? [] : loaded.errors).toEqual([]);
  });
});
