import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateImage, loadPolicy } from './index.js';

/**
 * The rule for block lists, stated once (docs/policy.md "Ports, default ports and Docker Hub's names"): for any
 * image and any block list, if some spelling of the image's registry that a runtime would dial matches a blocked
 * entry, the image is denied; and only then. The model below is written independently of the rule index: every
 * registry has an identity, the names a runtime may use for it, and the ports it may dial (the written port as a
 * number; without one, 443, or 80 over plain HTTP).
 */
interface Identity {
  /** What makes two spellings one registry. */
  readonly id: string;
  /** How an image or an entry may write it (case varies on top of these). */
  readonly spellings: readonly string[];
  /** The DNS names a runtime may use for it, lower case: what a wildcard is matched against. */
  readonly names: readonly string[];
}

const DOCKER_HUB_NAMES = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'];
const dns = (host: string): Identity => ({ id: host, spellings: [host], names: [host] });
const identities: readonly Identity[] = [
  { id: 'docker-hub', spellings: DOCKER_HUB_NAMES, names: DOCKER_HUB_NAMES },
  dns('evil.io'),
  dns('a.evil.io'),
  dns('b.a.evil.io'),
  dns('ghcr.io'),
  dns('hub.docker.com'),
  dns('a.docker.io'),
  dns('docker.com'),
  dns('localhost'),
  { id: '::1', spellings: ['[::1]', '[0:0:0:0:0:0:0:1]', '[0::0001]', '[::0:1]'], names: [] },
  {
    id: '10.0.0.9',
    spellings: ['10.0.0.9', '[::ffff:a00:9]', '[0:0:0:0:0:ffff:a00:9]'],
    names: ['10.0.0.9'],
  },
];
const WILDCARD_SUFFIXES = ['io', 'evil.io', 'a.evil.io', 'docker.io', 'docker.com', 'hub.docker.com', 'com'];

/** `5000` written as `5000`, `05000`, `0005000`. */
const port = fc
  .record({ n: fc.constantFrom(80, 443, 5000, 8080), zeros: fc.integer({ min: 0, max: 3 }) })
  .map(({ n, zeros }) => ({ n, text: `${'0'.repeat(zeros)}${n}` }));

/** Upper-cases some letters: hosts compare case-insensitively. */
const recase = (text: string, mask: number): string =>
  [...text].map((c, i) => ((mask >> (i % 30)) & 1 ? c.toUpperCase() : c)).join('');

const host = fc
  .record({
    identity: fc.constantFrom(...identities),
    pick: fc.nat(),
    mask: fc.nat(),
  })
  .map(({ identity, pick, mask }) => ({
    identity,
    text: recase(identity.spellings[pick % identity.spellings.length] ?? '', mask),
  }));

interface Image {
  readonly text: string;
  readonly identity: Identity;
  readonly port: number | null;
  readonly path: readonly string[];
}

const image: fc.Arbitrary<Image> = fc
  .record({
    host: fc.option(host, { nil: null }),
    port: fc.option(port, { nil: null }),
    path: fc.tuple(fc.constantFrom('org', 'other', 'library'), fc.constantFrom('app', 'nginx')),
  })
  .map(({ host: h, port: p, path }) => {
    // No host: a short name, which the runtime pulls from Docker Hub (on its default port).
    if (h === null) return { text: path.join('/'), identity: identities[0]!, port: null, path };
    const domain = p === null ? h.text : `${h.text}:${p.text}`;
    return { text: `${domain}/${path.join('/')}`, identity: h.identity, port: p?.n ?? null, path };
  });

type Entry =
  | { readonly text: string; readonly wildcard: string }
  | {
      readonly text: string;
      readonly wildcard: null;
      readonly identity: Identity;
      readonly port: number | null;
      readonly path: readonly string[];
    };

const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc
    .record({ suffix: fc.constantFrom(...WILDCARD_SUFFIXES), mask: fc.nat() })
    .map(({ suffix, mask }) => ({ text: `*.${recase(suffix, mask)}`, wildcard: suffix })),
  fc
    .record({
      host,
      port: fc.option(port, { nil: null }),
      path: fc.constantFrom([], ['org'], ['library', 'nginx']),
    })
    .map(({ host: h, port: p, path }) => ({
      text: `${p === null ? h.text : `${h.text}:${p.text}`}${path.map((c) => `/${c}`).join('')}`,
      wildcard: null,
      identity: h.identity,
      port: p?.n ?? null,
      path,
    })),
);

/** The model: the names and ports a runtime may dial for the image, and whether an entry covers one of them. */
function modelBlocks(img: Image, e: Entry): boolean {
  const ports = img.port === null ? [443, 80] : [img.port];
  if (e.wildcard !== null) return img.identity.names.some((n) => n.endsWith(`.${e.wildcard}`));
  return (
    e.identity.id === img.identity.id &&
    (e.port === null || ports.includes(e.port)) &&
    e.path.every((c, i) => img.path[i] === c)
  );
}

describe('block lists (property)', () => {
  it('denies an image exactly when some spelling a runtime would dial matches a blocked entry', () => {
    fc.assert(
      fc.property(image, fc.array(entry, { minLength: 1, maxLength: 4 }), (img, entries) => {
        const loaded = loadPolicy({
          apiVersion: 'registry-gate.io/v1alpha1',
          kind: 'RegistryPolicy',
          spec: { registrySources: { blockedRegistries: entries.map((e) => e.text) } },
        });
        if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
        const expected = entries.some((e) => modelBlocks(img, e)) ? 'REGISTRY_BLOCKED' : null;
        for (const judge of ['as-written', 'final'] as const) {
          const decision = evaluateImage(loaded.policy, img.text, { judge });
          expect(decision.error, img.text).toBeNull();
          expect(decision.code, `${img.text} against ${entries.map((e) => e.text).join(', ')}`).toBe(
            expected,
          );
        }
      }),
      { numRuns: 3000 },
    );
  });
});
