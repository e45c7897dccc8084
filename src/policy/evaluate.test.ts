import { describe, expect, it } from 'vitest';
import { formatReference } from '../reference/index.js';
import { evaluateImage, loadPolicyText, type CompiledPolicy, type ImageDecision } from './index.js';

function policy(spec: string): CompiledPolicy {
  const result = loadPolicyText(
    `apiVersion: registry-gate.io/v1alpha1\nkind: RegistryPolicy\nspec:\n${spec}`,
  );
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.policy;
}

const mycorp = policy(`
  shortNames:
    registry: docker.io
    aliases: {rhel7/etcd: registry.access.redhat.com/rhel7/etcd}
  mirrors:
    - {source: docker.io, mirror: registry.mycorp.com/dockerhub}
    - {source: quay.io, mirror: registry.mycorp.com/quay}
    - {source: quay.io/openshift-payload, mirror: internal-mirror.corp.example.com/openshift-payload, digestOnly: true}
    - {source: quay.io/openshift-payload, mirror: internal-mirror.corp.example.com/payload-tags, tagOnly: true}
    - {source: registry.access.redhat.com, mirror: registry.mycorp.com/redhat}
  registrySources:
    allowedRegistries: [registry.mycorp.com, "*.corp.example.com", "reg1.io/myrepo/myapp:latest", "reg2.io/team", "[::1]:5000", "10.0.0.5:5000"]
    insecureRegistries: [legacy.corp.example.com]
  pullSecrets:
    - {registry: registry.mycorp.com, secretName: mycorp-pull}
    - {registry: registry.mycorp.com/quay, secretName: quay-pull}
    - {registry: registry.mycorp.com, secretName: mycorp-pull}
  exemptions:
    namespaces: [registry-mirror]
    images: [ghcr.io/mycorp/bootstrap]
`);

const blocking = policy(`
  registrySources:
    blockedRegistries: [quay.io, "*.evil.io", "docker.io/library/ubuntu", "ghcr.io/org", "reg1.io/app:latest", "reg3.io/app@sha256:${'a'.repeat(64)}", "reg4.io:5000"]
`);

const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
const final = (d: ImageDecision): string | null => (d.final ? formatReference(d.final) : null);

describe('rewriting to the mirror (final images, as for a pod template)', () => {
  it.each([
    ['short name', 'nginx', 'registry.mycorp.com/dockerhub/library/nginx'],
    ['short name with tag', 'nginx:1.27', 'registry.mycorp.com/dockerhub/library/nginx:1.27'],
    [
      'short name with tag and digest',
      `nginx:1.27@${digest}`,
      `registry.mycorp.com/dockerhub/library/nginx:1.27@${digest}`,
    ],
    ['two-component short name', 'bitnami/redis:7', 'registry.mycorp.com/dockerhub/bitnami/redis:7'],
    ['alias', 'rhel7/etcd:3.2', 'registry.mycorp.com/redhat/rhel7/etcd:3.2'],
    ['docker.io explicit', 'docker.io/library/nginx', 'registry.mycorp.com/dockerhub/library/nginx'],
    ['index.docker.io', 'index.docker.io/library/nginx', 'registry.mycorp.com/dockerhub/library/nginx'],
    [
      'registry-1.docker.io is Docker Hub',
      'registry-1.docker.io/library/nginx',
      'registry.mycorp.com/dockerhub/library/nginx',
    ],
    [
      'registry.hub.docker.com is Docker Hub',
      'registry.hub.docker.com/bitnami/redis',
      'registry.mycorp.com/dockerhub/bitnami/redis',
    ],
    ['upper-case host', 'QUAY.IO/org/app:1', 'registry.mycorp.com/quay/org/app:1'],
    ['host with a port', 'quay.io:443/org/app', 'registry.mycorp.com/quay/org/app'],
    [
      'digest-only mirror takes digests',
      `quay.io/openshift-payload/release@${digest}`,
      `internal-mirror.corp.example.com/openshift-payload/release@${digest}`,
    ],
    [
      'tag-only mirror takes tags',
      'quay.io/openshift-payload/release:4.16',
      'internal-mirror.corp.example.com/payload-tags/release:4.16',
    ],
    [
      'longest source wins over quay.io',
      'quay.io/openshift-payload/release',
      'internal-mirror.corp.example.com/payload-tags/release',
    ],
    [
      'path look-alike uses the host source',
      'quay.io/openshift-payloadx/release',
      'registry.mycorp.com/quay/openshift-payloadx/release',
    ],
    [
      'already on the mirror',
      'registry.mycorp.com/dockerhub/library/nginx',
      'registry.mycorp.com/dockerhub/library/nginx',
    ],
  ])('%s: %s -> %s', (_name, input, expected) => {
    const d = evaluateImage(mycorp, input, { judge: 'final' });
    expect(final(d)).toBe(expected);
    expect(d.decision).toBe('allow');
  });

  it('rewriting is idempotent: the final image evaluates to itself', () => {
    for (const input of [
      'nginx',
      'QUAY.IO/org/app:1',
      `quay.io/openshift-payload/release@${digest}`,
      'rhel7/etcd',
    ]) {
      const once = final(evaluateImage(mycorp, input, { judge: 'final' }));
      const twice = evaluateImage(mycorp, once ?? '', { judge: 'final' });
      expect(final(twice)).toBe(once);
      expect(twice.rewrite).toBe(false);
    }
  });

  it('keeps an image untouched when nothing applies and the runtime would pull the same', () => {
    const open = policy('  mode: enforce');
    const d = evaluateImage(open, 'nginx', { judge: 'final' });
    expect(d.rewrite).toBe(false);
    expect(final(d)).toBe('docker.io/library/nginx');
  });

  it('places short names on shortNames.registry and rewrites them so the runtime pulls the same', () => {
    const p = policy('  shortNames: {registry: registry.mycorp.com}');
    const d = evaluateImage(p, 'team/app:1', { judge: 'final' });
    expect(final(d)).toBe('registry.mycorp.com/team/app:1');
    expect(d.rewrite).toBe(true);
  });
});

describe('allowed registries', () => {
  it.each([
    ['mirror host', 'registry.mycorp.com/x/y:1', 'allow', 'registry.mycorp.com'],
    ['mirror host, other port', 'registry.mycorp.com:8443/x', 'allow', 'registry.mycorp.com'],
    ['mirror host in capitals', 'REGISTRY.MYCORP.COM/x', 'allow', 'registry.mycorp.com'],
    ['look-alike suffix host', 'registry.mycorp.com.evil.io/x', 'deny', null],
    ['look-alike longer host', 'registry.mycorp.comx/x', 'deny', null],
    ['wildcard subdomain', 'a.corp.example.com/x', 'allow', '*.corp.example.com'],
    ['wildcard deep subdomain', 'a.b.corp.example.com/x', 'allow', '*.corp.example.com'],
    ['wildcard is not the apex', 'corp.example.com/x', 'deny', null],
    ['wildcard look-alike', 'evilcorp.example.com/x', 'deny', null],
    ['repository:tag entry, that tag', 'reg1.io/myrepo/myapp:latest', 'allow', 'reg1.io/myrepo/myapp:latest'],
    [
      'repository:tag entry, untagged is :latest',
      'reg1.io/myrepo/myapp',
      'allow',
      'reg1.io/myrepo/myapp:latest',
    ],
    ['repository:tag entry, other tag', 'reg1.io/myrepo/myapp:v2', 'deny', null],
    ['repository:tag entry, digest only', `reg1.io/myrepo/myapp@${digest}`, 'deny', null],
    // Pulled by digest, whatever the tag says: the tag entry must not let any content of the repository through.
    ['repository:tag entry, tag and digest', `reg1.io/myrepo/myapp:latest@${digest}`, 'deny', null],
    ['namespace entry', 'reg2.io/team/app', 'allow', 'reg2.io/team'],
    ['namespace entry covers the exact repository', 'reg2.io/team', 'allow', 'reg2.io/team'],
    ['namespace look-alike', 'reg2.io/teamx/app', 'deny', null],
    ['namespace entry, other host', 'reg2.io.evil.io/team/app', 'deny', null],
    ['IPv6 host with port', '[::1]:5000/app', 'allow', '[::1]:5000'],
    ['IPv6 host, other port', '[::1]:5001/app', 'deny', null],
    ['IPv6 host written out', '[0:0:0:0:0:0:0:1]:5000/app', 'allow', '[::1]:5000'],
    ['IPv6 host, leading zeros and capitals', '[0::0001]:5000/app', 'allow', '[::1]:5000'],
    ['IPv6 host, IPv4-mapped form of an IPv4 entry', '[::FFFF:a00:5]:5000/app', 'allow', '10.0.0.5:5000'],
    ['IPv6 host that is no address', '[::1::1]:5000/app', 'deny', null],
    ['IPv4 host with port', '10.0.0.5:5000/app', 'allow', '10.0.0.5:5000'],
    ['IPv4 host without port', '10.0.0.5/app', 'deny', null],
  ])('%s: %s is %s', (_name, input, decision, rule) => {
    const d = evaluateImage(mycorp, input, { judge: 'final' });
    expect({ decision: d.decision, rule: d.rule, code: d.code }).toEqual({
      decision,
      rule,
      code: decision === 'deny' ? 'REGISTRY_NOT_ALLOWED' : null,
    });
  });

  it('suggests the mirror reference in a denial of an image as written', () => {
    const d = evaluateImage(mycorp, 'docker.io/library/nginx:1.27', { judge: 'as-written' });
    expect(d.decision).toBe('deny');
    expect(d.code).toBe('REGISTRY_NOT_ALLOWED');
    expect(d.fix).toBe('registry.mycorp.com/dockerhub/library/nginx:1.27');
  });

  it('judges a short name as written by where the runtime pulls it (Docker Hub), not by the alias', () => {
    const d = evaluateImage(mycorp, 'rhel7/etcd', { judge: 'as-written' });
    expect(final(d)).toBe('docker.io/rhel7/etcd');
    expect(d.decision).toBe('deny');
    expect(d.fix).toBe('registry.mycorp.com/redhat/rhel7/etcd');
  });
});

describe('blocked registries', () => {
  it.each([
    ['blocked host', 'quay.io/org/app', 'REGISTRY_BLOCKED', 'quay.io'],
    ['blocked host in capitals', 'QUAY.IO/org/app', 'REGISTRY_BLOCKED', 'quay.io'],
    ['blocked host on another port', 'quay.io:443/org/app', 'REGISTRY_BLOCKED', 'quay.io'],
    ['host look-alike', 'quay.io.mirror.example/org/app', null, null],
    ['wildcard subdomain', 'x.evil.io/a', 'REGISTRY_BLOCKED', '*.evil.io'],
    ['wildcard apex allowed', 'evil.io/a', null, null],
    ['Docker Hub repository, short name', 'ubuntu:22.04', 'REGISTRY_BLOCKED', 'docker.io/library/ubuntu'],
    [
      'Docker Hub repository, alias host',
      'registry-1.docker.io/library/ubuntu',
      'REGISTRY_BLOCKED',
      'docker.io/library/ubuntu',
    ],
    [
      'Docker Hub repository, index host',
      'index.docker.io/ubuntu',
      'REGISTRY_BLOCKED',
      'docker.io/library/ubuntu',
    ],
    ['Docker Hub other repository', 'ubuntu-debootstrap', null, null],
    ['namespace', 'ghcr.io/org/app', 'REGISTRY_BLOCKED', 'ghcr.io/org'],
    ['namespace look-alike', 'ghcr.io/orgx/app', null, null],
    ['tag entry, that tag', 'reg1.io/app:latest', 'REGISTRY_BLOCKED', 'reg1.io/app:latest'],
    ['tag entry, untagged pulls latest', 'reg1.io/app', 'REGISTRY_BLOCKED', 'reg1.io/app:latest'],
    ['tag entry, tag and digest', `reg1.io/app:latest@${digest}`, 'REGISTRY_BLOCKED', 'reg1.io/app:latest'],
    ['tag entry, other tag', 'reg1.io/app:v1', null, null],
    [
      'digest entry, that digest',
      `reg3.io/app@sha256:${'a'.repeat(64)}`,
      'REGISTRY_BLOCKED',
      `reg3.io/app@sha256:${'a'.repeat(64)}`,
    ],
    ['digest entry, other digest', `reg3.io/app@${digest}`, null, null],
    ['port entry, that port', 'reg4.io:5000/app', 'REGISTRY_BLOCKED', 'reg4.io:5000'],
    ['port entry, no port', 'reg4.io/app', null, null],
  ])('%s: %s', (_name, input, code, rule) => {
    const d = evaluateImage(blocking, input, { judge: 'as-written' });
    expect({ code: d.code, rule: d.rule, decision: d.decision }).toEqual({
      code,
      rule,
      decision: code ? 'deny' : 'allow',
    });
  });
});

describe('invalid references, exemptions, secrets, warnings', () => {
  it.each([
    ['unicode look-alike host', 'quаy.io/org/app'],
    ['upper-case repository', 'docker.io/Library/nginx'],
    ['empty', ''],
    ['space', 'nginx latest'],
    ['bad digest length', 'nginx@sha256:abc'],
  ])('denies %s with the grammar error', (_name, input) => {
    const d = evaluateImage(mycorp, input, { judge: 'final' });
    expect(d.decision).toBe('deny');
    expect(d.code).toBe('INVALID_IMAGE_REF');
    expect(d.error?.message).toMatch(/./);
  });

  it('exempts a namespace and leaves its images unchanged', () => {
    const d = evaluateImage(mycorp, 'docker.io/library/nginx', {
      judge: 'final',
      namespace: 'registry-mirror',
    });
    expect({ decision: d.decision, rewrite: d.rewrite, rule: d.rule }).toEqual({
      decision: 'exempt',
      rewrite: false,
      rule: 'namespace registry-mirror',
    });
  });

  it('exempts a listed image and leaves it unchanged', () => {
    const d = evaluateImage(mycorp, 'ghcr.io/mycorp/bootstrap:1', { judge: 'final', namespace: 'default' });
    expect({ decision: d.decision, rewrite: d.rewrite, rule: d.rule }).toEqual({
      decision: 'exempt',
      rewrite: false,
      rule: 'ghcr.io/mycorp/bootstrap',
    });
  });

  it('picks every matching pull secret once, in policy order', () => {
    expect(evaluateImage(mycorp, 'quay.io/org/app', { judge: 'final' }).pullSecrets).toEqual([
      'mycorp-pull',
      'quay-pull',
    ]);
    expect(evaluateImage(mycorp, 'nginx', { judge: 'final' }).pullSecrets).toEqual(['mycorp-pull']);
    expect(evaluateImage(mycorp, 'a.corp.example.com/x', { judge: 'final' }).pullSecrets).toEqual([]);
  });

  it('warns about insecure registries', () => {
    const d = evaluateImage(mycorp, 'legacy.corp.example.com/app', { judge: 'final' });
    expect(d.decision).toBe('allow');
    expect(d.warnings).toHaveLength(1);
  });

  it('costs the same with 10,000 rules: every one of them is found', () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => `"reg${i}.example.com/team${i}"`).join(', ');
    const big = policy(`  registrySources:\n    blockedRegistries: [${entries}]`);
    expect(evaluateImage(big, 'reg9999.example.com/team9999/app', { judge: 'final' }).rule).toBe(
      'reg9999.example.com/team9999',
    );
    expect(evaluateImage(big, 'reg9999.example.com/team9998/app', { judge: 'final' }).decision).toBe('allow');
  });
});

describe('ports compare as numbers everywhere a port is matched', () => {
  const ported = policy(`
  mirrors:
    - {source: "ghcr.io:5000/org", mirror: "mirror.corp.example:8443/ghcr"}
  registrySources:
    allowedRegistries: ["mirror.corp.example:8443", "reg.corp.example:0443"]
  pullSecrets:
    - {registry: "mirror.corp.example:08443", secretName: mirror-pull}
  exemptions:
    images: ["tools.corp.example:5000/bootstrap"]
`);

  it('rewrites a padded port through a mirror source written without padding', () => {
    const d = evaluateImage(ported, 'ghcr.io:05000/org/app:1', { judge: 'final' });
    expect(final(d)).toBe('mirror.corp.example:8443/ghcr/app:1');
    expect(d.decision).toBe('allow');
    expect(d.pullSecrets).toEqual(['mirror-pull']);
  });

  it('does not rewrite an image already on the mirror, written with a padded port', () => {
    const d = evaluateImage(ported, 'mirror.corp.example:008443/ghcr/app:1', { judge: 'final' });
    expect(d.rewrite).toBe(false);
    expect({ decision: d.decision, rule: d.rule, pullSecrets: d.pullSecrets }).toEqual({
      decision: 'allow',
      rule: 'mirror.corp.example:8443',
      pullSecrets: ['mirror-pull'],
    });
  });

  it('allows an entry written with a padded port for the plain port, and only for that port', () => {
    expect(evaluateImage(ported, 'reg.corp.example:443/app', { judge: 'final' }).decision).toBe('allow');
    expect(evaluateImage(ported, 'reg.corp.example:4430/app', { judge: 'final' }).decision).toBe('deny');
    // Without a port the runtime may dial 80 (plain HTTP): an allow entry on :443 does not cover it.
    expect(evaluateImage(ported, 'reg.corp.example/app', { judge: 'final' }).decision).toBe('deny');
  });

  it('exempts an image written with a padded port', () => {
    const d = evaluateImage(ported, 'tools.corp.example:05000/bootstrap:1', { judge: 'final' });
    expect({ decision: d.decision, rule: d.rule }).toEqual({
      decision: 'exempt',
      rule: 'tools.corp.example:5000/bootstrap',
    });
  });

  it('treats two mirror sources that differ only in padding as the same source', () => {
    const result = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors:
    - {source: "ghcr.io:5000", mirror: m.example/a}
    - {source: "ghcr.io:05000", mirror: m.example/b}
`);
    expect(result.ok ? [] : result.errors).toEqual([
      expect.stringMatching(/^spec\.mirrors\[1\]\.source: .*already the source of spec\.mirrors\[0\]/),
    ]);
  });

  it('refuses a mirror that a block on its default port would deny', () => {
    const result = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors: [{source: docker.io, mirror: mirror.corp.example/hub}]
  registrySources: {blockedRegistries: ["mirror.corp.example:443"]}
`);
    expect(result.ok ? [] : result.errors).toEqual([
      expect.stringMatching(/^spec\.mirrors\[0\]\.mirror: .*blocked by blockedRegistries entry/),
    ]);
  });
});
