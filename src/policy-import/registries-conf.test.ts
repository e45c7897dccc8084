import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importRegistriesConf } from './registries-conf.js';
import type { ImportedRules } from './rules.js';

const fixtures = join(import.meta.dirname, '../../test/fixtures/registries-conf');
const file = (name: string) => ({ file: name, text: readFileSync(join(fixtures, name), 'utf8') });

function rules(...texts: string[]): ImportedRules {
  const result = importRegistriesConf(texts.map((text, i) => ({ text, file: `f${i}.conf` })));
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.rules;
}
const values = <T>(list: readonly { value: T }[] | null): T[] | null => list?.map((x) => x.value) ?? null;
const rule = (source: string, mirror: string, kind: 'all' | 'digest' | 'tag' = 'all') => ({
  source,
  mirror,
  digestOnly: kind === 'digest',
  tagOnly: kind === 'tag',
});

describe('importRegistriesConf: [[registry]] and its mirrors', () => {
  it.each([
    {
      name: 'a mirror with no pull-from-mirror serves every pull',
      toml: '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "m.corp/hub"',
      mirrors: [rule('docker.io', 'm.corp/hub')],
    },
    {
      name: 'pull-from-mirror = "all"',
      toml: '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "m.corp/hub"\npull-from-mirror = "all"',
      mirrors: [rule('docker.io', 'm.corp/hub')],
    },
    {
      name: 'pull-from-mirror = "digest-only"',
      toml: '[[registry]]\nlocation = "quay.io/x"\n[[registry.mirror]]\nlocation = "m.corp/x"\npull-from-mirror = "digest-only"',
      mirrors: [rule('quay.io/x', 'm.corp/x', 'digest')],
    },
    {
      name: 'pull-from-mirror = "tag-only"',
      toml: '[[registry]]\nlocation = "quay.io/x"\n[[registry.mirror]]\nlocation = "m.corp/x"\npull-from-mirror = "tag-only"',
      mirrors: [rule('quay.io/x', 'm.corp/x', 'tag')],
    },
    {
      name: 'mirror-by-digest-only = true on the registry (the MCO rendering of an ICSP)',
      toml: '[[registry]]\nprefix = ""\nlocation = "quay.io/openshift-payload"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "internal-mirror.io/openshift-payload"',
      mirrors: [rule('quay.io/openshift-payload', 'internal-mirror.io/openshift-payload', 'digest')],
    },
    {
      name: 'a digest-only and a tag-only mirror give one rule each',
      toml: '[[registry]]\nlocation = "quay.io/x"\n[[registry.mirror]]\nlocation = "d.corp/x"\npull-from-mirror = "digest-only"\n[[registry.mirror]]\nlocation = "t.corp/x"\npull-from-mirror = "tag-only"',
      mirrors: [rule('quay.io/x', 'd.corp/x', 'digest'), rule('quay.io/x', 't.corp/x', 'tag')],
    },
    {
      name: 'the first mirror the node tries wins (several mirrors)',
      toml: '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "a.corp/hub"\n[[registry.mirror]]\nlocation = "b.corp/hub"',
      mirrors: [rule('docker.io', 'a.corp/hub')],
    },
    {
      name: 'a location other than the prefix is a rewrite with no fallback',
      toml: '[[registry]]\nprefix = "example.com/foo"\nlocation = "internal.corp/example/foo"',
      mirrors: [rule('example.com/foo', 'internal.corp/example/foo')],
    },
    {
      name: 'digest pulls to a digest-only mirror, tag pulls to the remapped location',
      toml: '[[registry]]\nprefix = "example.com/foo"\nlocation = "internal.corp/foo"\n[[registry.mirror]]\nlocation = "d.corp/foo"\npull-from-mirror = "digest-only"',
      mirrors: [
        rule('example.com/foo', 'd.corp/foo', 'digest'),
        rule('example.com/foo', 'internal.corp/foo', 'tag'),
      ],
    },
    {
      name: 'a wildcard prefix is never a mirror source',
      toml: '[[registry]]\nprefix = "*.example.com"\n[[registry.mirror]]\nlocation = "m.corp"',
      mirrors: [],
    },
    {
      name: 'a registry without mirrors rewrites nothing',
      toml: '[[registry]]\nlocation = "quay.io"\ninsecure = true',
      mirrors: [],
    },
  ])('$name', ({ toml, mirrors }) => {
    expect(values(rules(toml).mirrors)).toEqual(mirrors);
  });

  it.each([
    {
      name: 'blocked',
      toml: '[[registry]]\nlocation = "untrusted.com"\nblocked = true',
      blocked: ['untrusted.com'],
      insecure: [],
    },
    {
      name: 'blocked wildcard',
      toml: '[[registry]]\nprefix = "*.evil.io"\nblocked = true',
      blocked: ['*.evil.io'],
      insecure: [],
    },
    {
      name: 'insecure registry and insecure mirror',
      toml: '[[registry]]\nlocation = "insecure.com"\ninsecure = true\n[[registry.mirror]]\nlocation = "m.lan:5000"\ninsecure = true',
      blocked: null,
      insecure: ['insecure.com', 'm.lan:5000'],
    },
  ])('$name', ({ toml, blocked, insecure }) => {
    const r = rules(toml);
    expect(values(r.blockedRegistries)).toEqual(blocked);
    expect(values(r.insecureRegistries)).toEqual(insecure);
  });

  it('names the file and entry of every rule', () => {
    const result = importRegistriesConf([file('registries.conf')]);
    if (!result.ok) throw new Error(result.errors.join());
    expect(result.rules.mirrors.map((m) => m.origins)).toEqual([
      [{ document: 'registries.conf', entry: 'registry[0].mirror[0]' }],
      [{ document: 'registries.conf', entry: 'registry[2].mirror[0]' }],
    ]);
    expect(result.rules.blockedRegistries?.[0]?.origins).toEqual([
      { document: 'registries.conf', entry: 'registry[0].blocked' },
    ]);
  });
});

describe('importRegistriesConf: short names and drop-ins', () => {
  it.each([
    {
      name: 'one search registry',
      toml: 'unqualified-search-registries = ["registry.corp.io"]',
      search: 'registry.corp.io',
      note: null,
    },
    {
      name: 'several: pinned to the first, with a note',
      toml: 'unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]',
      search: 'registry.access.redhat.com',
      note: /pinned to the first, registry\.access\.redhat\.com/,
    },
    {
      name: 'none: the default stays, with a note',
      toml: 'unqualified-search-registries = []',
      search: null,
      note: /resolves no short name/,
    },
    {
      name: 'short-name-mode has no admission meaning',
      toml: 'short-name-mode = "enforcing"',
      search: null,
      note: /short-name-mode = "enforcing": no admission meaning/,
    },
    {
      name: 'credential-helpers has no admission meaning',
      toml: 'credential-helpers = ["containers-auth.json"]',
      search: null,
      note: /credential-helpers: no admission meaning/,
    },
  ])('$name', ({ toml, search, note }) => {
    const r = rules(toml);
    expect(r.shortNameRegistry?.value ?? null).toBe(search);
    if (note) expect(r.notes.join('\n')).toMatch(note);
    else expect(r.notes).toEqual([]);
  });

  it('reads shortnames.conf aliases', () => {
    const result = importRegistriesConf([file('shortnames.conf')]);
    if (!result.ok) throw new Error(result.errors.join());
    expect(values(result.rules.aliases)).toEqual([
      { shortName: 'fedora', target: 'registry.fedoraproject.org/fedora' },
      { shortName: 'ubi9', target: 'registry.access.redhat.com/ubi9' },
      { shortName: 'nginx', target: 'docker.io/library/nginx' },
    ]);
  });

  it('a later drop-in replaces a registry with the same prefix, the search list and an alias', () => {
    const r = rules(
      'unqualified-search-registries = ["a.io"]\n[aliases]\nx = "a.io/x"\n[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "old.corp/hub"',
      'unqualified-search-registries = ["b.io"]\n[aliases]\nx = "b.io/x"\n[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "new.corp/hub"',
    );
    expect(values(r.mirrors)).toEqual([rule('docker.io', 'new.corp/hub')]);
    expect(r.shortNameRegistry?.value).toBe('b.io');
    expect(values(r.aliases)).toEqual([{ shortName: 'x', target: 'b.io/x' }]);
  });
});

describe('importRegistriesConf: errors', () => {
  it.each([
    {
      name: 'TOML syntax',
      toml: '[[registry]\nlocation = "x"',
      error: /f0\.conf: TOML: .*\(line 1, column \d+\)/,
    },
    {
      name: 'the v1 format',
      toml: '[registries.search]\nregistries = ["docker.io"]',
      error: /v1 format .* is not supported/,
    },
    {
      name: 'a bad pull-from-mirror',
      toml: '[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "digests"',
      error: /registry\[0\]\.mirror\[0\]\.pull-from-mirror: must be all, digest-only or tag-only/,
    },
    {
      name: 'pull-from-mirror with mirror-by-digest-only',
      toml: '[[registry]]\nlocation = "a.io"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "all"',
      error: /cannot be set when the registry has mirror-by-digest-only/,
    },
    {
      name: 'a registry with neither prefix nor location',
      toml: '[[registry]]\nblocked = true',
      error: /registry\[0\]: needs a prefix or a location/,
    },
    {
      name: 'a mirror without location',
      toml: '[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\ninsecure = true',
      error: /mirror\[0\]\.location: is required/,
    },
    {
      name: 'an unknown key (a typo must not pass silently)',
      toml: '[[registry]]\nlocation = "a.io"\nblock = true',
      error: /registry\[0\]\.block: unknown field/,
    },
    {
      name: 'a bad short-name-mode',
      toml: 'short-name-mode = "strict"',
      error: /short-name-mode: must be enforcing, permissive or disabled/,
    },
    {
      name: 'blocked that is not a boolean',
      toml: '[[registry]]\nlocation = "a.io"\nblocked = "yes"',
      error: /registry\[0\]\.blocked: must be true or false/,
    },
  ])('$name', ({ toml, error }) => {
    const result = importRegistriesConf([{ text: toml, file: 'f0.conf' }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(error);
  });
});
