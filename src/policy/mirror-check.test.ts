import { describe, expect, it } from 'vitest';
import { formatReference } from '../reference/index.js';
import {
  applyMirrorAnswer,
  asksMirrors,
  evaluateImage,
  loadPolicyText,
  mirrorLookup,
  type CompiledPolicy,
  type MirrorAnswer,
} from './index.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;

function policy(mirror: string): CompiledPolicy {
  const loaded = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors:
    - ${mirror}
    - {source: quay.io, mirror: mirror.corp/quay}
  registrySources:
    allowedRegistries: [mirror.corp, ghcr.io]
    insecureRegistries: [mirror.corp/insecure]
  pullSecrets:
    - {registry: mirror.corp, secretName: mirror-pull}
`);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.policy;
}

const found: MirrorAnswer = { status: 'found', digest: DIGEST, httpStatus: 200 };
const missing: MirrorAnswer = { status: 'missing', httpStatus: 404, reason: 'not in the mirror (HTTP 404)' };
const error: MirrorAnswer = {
  status: 'error',
  httpStatus: null,
  reason: 'the mirror did not answer in time',
};

const judge = (p: CompiledPolicy, image: string) => evaluateImage(p, image, { judge: 'final' });

describe('mirrorLookup: what to ask, and only when asked for', () => {
  const p = policy('{source: docker.io, mirror: mirror.corp/hub, verify: warn, pin: digest}');

  it('a rewritten image: the mirror reference, its credentials, by tag', () => {
    expect(mirrorLookup(p, judge(p, 'nginx:1.27'), 'verify')).toEqual({
      key: 'mirror.corp/hub/library/nginx:1.27',
      mirror: 'mirror.corp/hub',
      registry: 'mirror.corp',
      repository: 'hub/library/nginx',
      reference: '1.27',
      byDigest: false,
      secrets: ['mirror-pull'],
      insecure: false,
    });
  });

  it.each([
    ['an image already on the mirror', 'mirror.corp/hub/app:1', 'verify', '1'],
    ['no tag: latest, as the node pulls', 'nginx', 'verify', 'latest'],
    ['a digest is what is pulled', `nginx:1.27@${DIGEST}`, 'verify', DIGEST],
  ] as const)('%s', (_name, image, purpose, reference) => {
    expect(mirrorLookup(p, judge(p, image), purpose)?.reference).toBe(reference);
  });

  it.each([
    ['not on a mirror', 'ghcr.io/org/app:1', 'verify'],
    ['denied', 'registry.example/app:1', 'verify'],
    ['verify off for that mirror', 'quay.io/org/app:1', 'verify'],
    ['pin: a digest already given is kept, not asked', `nginx@${DIGEST}`, 'pin'],
    ['pin none', 'quay.io/org/app:1', 'pin'],
  ] as const)('nothing to ask: %s', (_name, image, purpose) => {
    expect(mirrorLookup(p, judge(p, image), purpose)).toBeNull();
  });

  it('explain asks whatever verify says', () => {
    expect(mirrorLookup(p, judge(p, 'quay.io/org/app:1'), 'explain')?.key).toBe('mirror.corp/quay/org/app:1');
  });

  it('a mirror listed as insecure is asked without TLS verification', () => {
    const q = policy('{source: docker.io, mirror: mirror.corp/insecure, verify: warn}');
    expect(mirrorLookup(q, judge(q, 'nginx:1'), 'verify')?.insecure).toBe(true);
  });

  it('asksMirrors: only when some mirror verifies or pins', () => {
    expect(asksMirrors(p)).toBe(true);
    expect(asksMirrors(policy('{source: docker.io, mirror: mirror.corp/hub}'))).toBe(false);
  });
});

describe('applyMirrorAnswer', () => {
  type Case = [
    name: string,
    rule: string,
    image: string,
    answer: MirrorAnswer,
    expected: Record<string, unknown>,
  ];
  it.each<Case>([
    [
      'found, pin: the tag gains the digest',
      '{verify: warn, pin: digest}',
      'nginx:1.27',
      found,
      {
        decision: 'allow',
        final: `mirror.corp/hub/library/nginx:1.27@${DIGEST}`,
        rewrite: true,
        warnings: [],
      },
    ],
    [
      'found, pin: a digest given is kept',
      '{verify: warn, pin: digest}',
      `nginx@${OTHER}`,
      found,
      {
        final: `mirror.corp/hub/library/nginx@${OTHER}`,
      },
    ],
    [
      'found, pin: an image already on the mirror is pinned too',
      '{verify: warn, pin: digest}',
      'mirror.corp/hub/app:1',
      found,
      {
        final: `mirror.corp/hub/app:1@${DIGEST}`,
        rewrite: true,
      },
    ],
    [
      'found, no pin: unchanged',
      '{verify: enforce}',
      'nginx:1.27',
      found,
      {
        decision: 'allow',
        final: 'mirror.corp/hub/library/nginx:1.27',
      },
    ],
    [
      'missing, warn: a warning with the mirror command',
      '{verify: warn}',
      'nginx:1.27',
      missing,
      {
        decision: 'allow',
        code: null,
        warnings: [
          'registry-gate: mirror.corp/hub/library/nginx:1.27 is not in mirror mirror.corp/hub (not in the mirror (HTTP 404)); pulls will fail until it is mirrored',
          'registry-gate: to mirror it: skopeo copy --all docker://docker.io/library/nginx:1.27 docker://mirror.corp/hub/library/nginx:1.27',
        ],
      },
    ],
    [
      'missing, enforce: NOT_IN_MIRROR',
      '{verify: enforce}',
      'nginx:1.27',
      missing,
      {
        decision: 'deny',
        code: 'NOT_IN_MIRROR',
        pullSecrets: [],
      },
    ],
    [
      'missing, off (explain only): recorded, nothing else',
      '{verify: off}',
      'nginx:1.27',
      missing,
      {
        decision: 'allow',
        warnings: [],
      },
    ],
    [
      'error, onError allow: a warning with the reason',
      '{verify: enforce}',
      'nginx:1.27',
      error,
      {
        decision: 'allow',
        warnings: [
          'registry-gate: could not ask mirror mirror.corp/hub about mirror.corp/hub/library/nginx:1.27 (the mirror did not answer in time); admitted (onError: allow)',
        ],
      },
    ],
    [
      'error, onError deny: MIRROR_UNREACHABLE',
      '{verify: warn, onError: deny}',
      'nginx:1.27',
      error,
      {
        decision: 'deny',
        code: 'MIRROR_UNREACHABLE',
      },
    ],
    [
      'error, verify off: nothing',
      '{verify: off, onError: deny}',
      'nginx:1.27',
      error,
      { decision: 'allow' },
    ],
  ])('%s', (_name, rule, image, answer, expected) => {
    const p = policy(`{source: docker.io, mirror: mirror.corp/hub, ${rule.slice(1, -1)}}`);
    const d = applyMirrorAnswer(judge(p, image), answer);
    expect({ ...d, final: d.final && formatReference(d.final) }).toMatchObject({
      ...expected,
      mirrorCheck: answer,
    });
  });

  it('not asked (undefined), or a denied image: the decision as it was', () => {
    const p = policy('{source: docker.io, mirror: mirror.corp/hub, verify: enforce}');
    const d = judge(p, 'nginx');
    expect(applyMirrorAnswer(d, undefined)).toBe(d);
    const denied = judge(p, 'registry.example/x');
    expect(applyMirrorAnswer(denied, missing)).toBe(denied);
  });

  it('the mirror command of an image by digest names the digest upstream', () => {
    const p = policy('{source: docker.io, mirror: mirror.corp/hub, verify: warn}');
    const d = applyMirrorAnswer(judge(p, `nginx:1.27@${DIGEST}`), missing);
    expect(d.warnings[1]).toBe(
      `registry-gate: to mirror it: skopeo copy --all docker://docker.io/library/nginx@${DIGEST} docker://mirror.corp/hub/library/nginx:1.27`,
    );
  });
});
