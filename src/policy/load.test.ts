import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_YAML, loadPolicyText } from './index.js';

const header = 'apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec:\n';

function errorsOf(spec: string): string[] {
  const result = loadPolicyText(header + spec);
  return result.ok ? [] : result.errors;
}

describe('policy validation reports every error with its field path', () => {
  it.each([
    [
      'both lists',
      '  registrySources: {allowedRegistries: [a.io], blockedRegistries: [b.io]}',
      'spec.registrySources: set allowedRegistries or blockedRegistries, not both',
    ],
    [
      'unknown field (typo)',
      '  registrySources: {allowedRegistry: [a.io]}',
      'spec.registrySources.allowedRegistry: unknown field',
    ],
    ['bad mode', '  mode: strict', 'spec.mode: must be one of enforce, warn, audit'],
    [
      'bad entry',
      '  registrySources: {blockedRegistries: ["quay.io/Org"]}',
      'spec.registrySources.blockedRegistries[0]:',
    ],
    ['URL entry', '  registrySources: {blockedRegistries: ["https://quay.io"]}', 'no scheme'],
    [
      'wildcard with a path',
      '  registrySources: {blockedRegistries: ["*.quay.io/org"]}',
      'spec.registrySources.blockedRegistries[0]: "*.quay.io/org": a wildcard entry',
    ],
    ['mid wildcard', '  registrySources: {blockedRegistries: ["a.*.io"]}', 'leading "*."'],
    [
      'mirror target not allowed',
      '  mirrors: [{source: docker.io, mirror: other.io/hub}]\n  registrySources: {allowedRegistries: [mine.io]}',
      'spec.mirrors[0].mirror: "other.io/hub" is not covered by allowedRegistries',
    ],
    [
      'mirror target blocked',
      '  mirrors: [{source: docker.io, mirror: other.io/hub}]\n  registrySources: {blockedRegistries: [other.io]}',
      'spec.mirrors[0].mirror: "other.io/hub" is blocked',
    ],
    [
      'mirror under its own source',
      '  mirrors: [{source: quay.io, mirror: quay.io/mirror}]',
      'spec.mirrors[0].mirror: "quay.io/mirror" is under its own source',
    ],
    [
      'rewrite cycle',
      '  mirrors: [{source: a.io/x, mirror: b.io/y}, {source: b.io, mirror: a.io/x}]',
      'rewrite cycle',
    ],
    [
      'duplicate source',
      '  mirrors: [{source: docker.io, mirror: a.io/x}, {source: docker.io, mirror: b.io/y}]',
      'spec.mirrors[1].source: "docker.io" is already the source of spec.mirrors[0]',
    ],
    [
      'duplicate digestOnly',
      '  mirrors: [{source: docker.io, mirror: a.io/x, digestOnly: true}, {source: docker.io, mirror: b.io/y, digestOnly: true}]',
      'spec.mirrors[1].source',
    ],
    [
      'digestOnly and tagOnly',
      '  mirrors: [{source: docker.io, mirror: a.io/x, digestOnly: true, tagOnly: true}]',
      'spec.mirrors[0]: digestOnly and tagOnly exclude each other',
    ],
    [
      'wildcard source',
      '  mirrors: [{source: "*.docker.io", mirror: a.io/x}]',
      'spec.mirrors[0].source: a mirror source cannot be a wildcard',
    ],
    [
      'tag in a source',
      '  mirrors: [{source: "docker.io/library/nginx:1", mirror: a.io/x}]',
      'spec.mirrors[0].source: "docker.io/library/nginx:1": a tag or digest is not allowed here',
    ],
    [
      'repository source, host mirror',
      '  mirrors: [{source: docker.io/library/nginx, mirror: a.io}]',
      'spec.mirrors[0].mirror: a source that names a repository',
    ],
    ['missing mirror', '  mirrors: [{source: docker.io}]', 'spec.mirrors[0].mirror: is required'],
    [
      'bad secret name',
      '  pullSecrets: [{registry: a.io, secretName: My_Secret}]',
      'spec.pullSecrets[0].secretName: "My_Secret" is not a valid Secret name',
    ],
    [
      'bad secret source',
      '  pullSecrets: [{registry: a.io, secretName: s, from: {namespace: "", name: s}}]',
      'spec.pullSecrets[0].from.namespace',
    ],
    [
      'secret source without a name',
      '  pullSecrets: [{registry: a.io, secretName: s, from: {namespace: gate}}]',
      'spec.pullSecrets[0].from.name: is required',
    ],
    [
      'secret source with an unknown field',
      '  pullSecrets: [{registry: a.io, secretName: s, from: {namespace: gate, name: s, key: x}}]',
      'spec.pullSecrets[0].from.key: unknown field',
    ],
    [
      'secret source that is not a map',
      '  pullSecrets: [{registry: a.io, secretName: s, from: gate/s}]',
      'spec.pullSecrets[0].from: must be a map',
    ],
    [
      'one secret name with two sources',
      '  pullSecrets:\n    - {registry: a.io, secretName: s, from: {namespace: gate, name: a}}\n    - {registry: b.io, secretName: s, from: {namespace: gate, name: b}}',
      'spec.pullSecrets[1].from: "s" is already copied from gate/a (spec.pullSecrets[0])',
    ],
    [
      'alias to a short name',
      '  shortNames: {aliases: {nginx: library/nginx}}',
      'spec.shortNames.aliases["nginx"]: "library/nginx" must be a fully-qualified repository',
    ],
    ['alias key with a registry', '  shortNames: {aliases: {"quay.io/x": quay.io/y}}', 'is not a short name'],
    [
      'short-name registry with a path',
      '  shortNames: {registry: docker.io/library}',
      'spec.shortNames.registry',
    ],
    ['bad exempt namespace', '  exemptions: {namespaces: [Kube_System]}', 'spec.exemptions.namespaces[0]'],
    ['not a list', '  mirrors: {source: a}', 'spec.mirrors: must be a list'],
    [
      'unknown verify level',
      '  mirrors: [{source: docker.io, mirror: a.io/x, verify: strict}]',
      'spec.mirrors[0].verify: must be one of off, warn, enforce, not "strict"',
    ],
    [
      'verify that is not a string',
      '  mirrors: [{source: docker.io, mirror: a.io/x, verify: true}]',
      'spec.mirrors[0].verify: must be a string, not boolean true',
    ],
    [
      'unknown pin',
      '  mirrors: [{source: docker.io, mirror: a.io/x, verify: warn, pin: tag}]',
      'spec.mirrors[0].pin: must be one of none, digest, not "tag"',
    ],
    [
      'unknown onError',
      '  mirrors: [{source: docker.io, mirror: a.io/x, verify: warn, onError: retry}]',
      'spec.mirrors[0].onError: must be one of allow, deny, not "retry"',
    ],
    [
      'pin without verify',
      '  mirrors: [{source: docker.io, mirror: a.io/x, pin: digest}]',
      'spec.mirrors[0].pin: pin: digest asks the mirror, so it needs verify: warn or enforce',
    ],
    ['not a boolean', '  rewriteTemplates: "yes"', 'spec.rewriteTemplates: must be true or false'],
  ])('%s', (_name, spec, expected) => {
    const errors = errorsOf(spec);
    expect(
      errors.some((e) => e.includes(expected)),
      `got: ${errors.join(' | ')}`,
    ).toBe(true);
  });

  it('mirror verification defaults to off, none, allow, and reads what is set', () => {
    const result = loadPolicyText(
      `${header}  mirrors:\n    - {source: docker.io, mirror: a.io/x}\n    - {source: quay.io, mirror: a.io/q, verify: enforce, pin: digest, onError: deny}\n`,
    );
    const mirrors = result.ok ? result.policy.spec.mirrors : [];
    expect(mirrors.map(({ verify, pin, onError }) => ({ verify, pin, onError }))).toEqual([
      { verify: 'off', pin: 'none', onError: 'allow' },
      { verify: 'enforce', pin: 'digest', onError: 'deny' },
    ]);
  });

  it('collects all errors at once', () => {
    const errors = errorsOf(
      '  mode: strict\n  rewriteTemplates: 1\n  registrySources: {allowedRegistries: [a.io], blockedRegistries: [b.io]}',
    );
    expect(errors).toHaveLength(3);
  });

  it('refuses a document that is not a RegistryPolicy', () => {
    const result = loadPolicyText('apiVersion: v1\nkind: ConfigMap\n');
    expect(result.ok ? [] : result.errors).toEqual([
      'apiVersion: must be registry-gate.io/v1alpha1, not "v1"',
      'kind: must be RegistryPolicy, not "ConfigMap"',
    ]);
  });

  it('names the line of a YAML syntax error', () => {
    const result = loadPolicyText(`${header}  mode: [enforce\n`);
    expect(result.ok ? [] : result.errors[0]).toMatch(/line \d+/);
  });
});

describe('defaults (golden)', () => {
  const golden = JSON.parse(
    readFileSync(new URL('../../test/fixtures/golden/policy-defaults.json', import.meta.url), 'utf8'),
  ) as unknown;

  it('a minimal policy gets exactly the documented defaults', () => {
    const result = loadPolicyText(`${header}  {}\n`);
    expect(result.ok && result.policy.spec).toEqual((golden as { minimal: unknown }).minimal);
  });

  it('the built-in default policy is valid and unchanged', () => {
    const result = loadPolicyText(DEFAULT_POLICY_YAML);
    expect(result.ok && result.policy.spec).toEqual((golden as { builtIn: unknown }).builtIn);
  });
});

describe('pull secret sources', () => {
  it('accepts one source named by several entries (one Secret for several registries)', () => {
    const result = loadPolicyText(
      header +
        '  pullSecrets:\n' +
        '    - {registry: a.io, secretName: s, from: {namespace: gate, name: src}}\n' +
        '    - {registry: b.io, secretName: s, from: {namespace: gate, name: src}}\n' +
        '    - {registry: c.io, secretName: s}\n',
    );
    expect(result.ok ? result.policy.spec.pullSecrets.map((p) => p.from) : result.errors).toEqual([
      { namespace: 'gate', name: 'src' },
      { namespace: 'gate', name: 'src' },
      null,
    ]);
  });
});

describe('a misspelled field names the one it most likely meant', () => {
  it.each([
    [
      '  registrySources: {allowedRegistry: [a.io]}',
      'spec.registrySources.allowedRegistry: unknown field (did you mean "allowedRegistries"?)',
    ],
    ['  mirros: []', 'spec.mirros: unknown field (did you mean "mirrors"?)'],
    ['  RewriteTemplates: true', 'spec.RewriteTemplates: unknown field (did you mean "rewriteTemplates"?)'],
    [
      '  pullSecrets: [{registry: a.io, secretName: s, secretname: t}]',
      'spec.pullSecrets[0].secretname: unknown field (did you mean "secretName"?)',
    ],
    ['  colour: blue', 'spec.colour: unknown field'],
  ])('%s', (spec, message) => {
    expect(errorsOf(spec)).toEqual([message]);
  });

  it('at the top of the document too', () => {
    const result = loadPolicyText('apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspecs: {}\n');
    expect(result.ok ? [] : result.errors).toContain('specs: unknown field (did you mean "spec"?)');
  });
});

describe('YAML syntax errors', () => {
  it('say where, and end on what is wrong rather than a dangling colon', () => {
    const result = loadPolicyText(header + '  mode: enforce\n   mirrors: []\n');
    const errors = result.ok ? [] : result.errors;
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toMatch(/^\(yaml\) line \d+, column \d+: \S.*[^:]$/);
  });
});
