import fc from 'fast-check';
import fjp from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { loadPolicyText, type MirrorAnswer } from '../policy/index.js';
import { evaluateRequest } from './evaluate-request.js';
import { mirrorLookups, withMirrorAnswers } from './mirror-answers.js';
import { mutate } from './mutate.js';
import { podSpecLocation, POD_BEARING_KINDS } from '../engine/pod-spec-table.js';
import type { AdmissionRequest } from './review.js';
import { validate } from './validate.js';

const loaded = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  rewriteTemplates: true
  shortNames: {aliases: {tools: quay.io/acme/tools}}
  mirrors:
    - {source: docker.io, mirror: mirror.corp.example/hub}
    - {source: quay.io, mirror: mirror.corp.example/quay}
    - {source: quay.io/payload, mirror: mirror.corp.example/payload, digestOnly: true}
  registrySources: {allowedRegistries: [mirror.corp.example, "*.corp.example"]}
  pullSecrets:
    - {registry: mirror.corp.example, secretName: corp-pull}
    - {registry: mirror.corp.example/quay, secretName: quay-pull}
  exemptions: {images: [ghcr.io/exempt]}
`);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const policy = loaded.policy;

const DIGEST = `@sha256:${'b'.repeat(64)}`;
const image = fc.oneof(
  fc.constantFrom(
    'nginx',
    'nginx:1.27',
    `nginx${DIGEST}`,
    'library/redis:7',
    'docker.io/bitnami/redis',
    'index.docker.io/library/nginx',
    'REGISTRY-1.DOCKER.IO/x/y:1',
    'quay.io/org/app:1',
    `quay.io/payload/x:1${DIGEST}`,
    'quay.io/payload/x:1',
    'tools:2',
    'mirror.corp.example/hub/library/nginx',
    'a.corp.example/app',
    'ghcr.io/exempt/x',
    'ghcr.io/evil/x',
    '[::1]:5000/x',
    'Nginx',
    '',
    'not a reference',
    'quаy.io/x',
  ),
  fc
    .tuple(
      fc.constantFrom(
        '',
        'docker.io/',
        'quay.io/',
        'mirror.corp.example/',
        'b.corp.example:5000/',
        'evil.io/',
      ),
      fc.array(fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, { maxLength: 8 }), {
        minLength: 1,
        maxLength: 3,
      }),
      fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}$/), { nil: undefined }),
    )
    .map(([host, path, tag]) => `${host}${path.join('/')}${tag === undefined ? '' : `:${tag}`}`),
);

// Names and annotation keys with `/` and `~`, which RFC 6901 pointers must escape.
const name = fc.oneof(fc.constantFrom('c', 'a/b', 'x~1', '~', '/', ''), fc.string({ maxLength: 6 }));
const container = fc.record(
  { name, image, imagePullPolicy: fc.constant('IfNotPresent') },
  { requiredKeys: ['name'] },
);
const volume = fc.oneof(
  fc.record({ name, image: fc.record({ reference: image }) }),
  fc.record({ name, emptyDir: fc.constant({}) }),
);
const list = <T>(item: fc.Arbitrary<T>) => fc.option(fc.array(item, { maxLength: 4 }), { nil: undefined });
const pullSecrets = fc.option(
  fc.oneof(
    fc.constant(null),
    fc.array(fc.record({ name: fc.constantFrom('corp-pull', 'quay-pull', 'mine') }), { maxLength: 3 }),
  ),
  { nil: undefined },
);
const podSpec = fc
  .record({
    initContainers: list(container),
    containers: list(container),
    ephemeralContainers: list(container),
    volumes: list(volume),
    imagePullSecrets: pullSecrets,
  })
  .map((spec) => Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)));
const annotations = fc.oneof(
  fc.constant(null),
  fc.dictionary(
    fc.constantFrom('a', 'x/y', 'x~y', 'registry-gate.io/original-images'),
    fc.string({ maxLength: 20 }),
  ),
  fc.constant({ 'registry-gate.io/original-images': '{"containers/old":"busybox"}' }),
);
const metadata = fc.option(fc.record({ name: fc.constant('w'), annotations }, { requiredKeys: ['name'] }), {
  nil: undefined,
});

/** An object of any pod-bearing kind with the generated spec and metadata where that kind keeps them. */
const request = fc
  .record({ kind: fc.constantFrom(...POD_BEARING_KINDS), spec: podSpec, metadata })
  .map(({ kind: groupKind, spec, metadata: meta }): AdmissionRequest => {
    const [group = '', kind = ''] = groupKind.split('/');
    const location = podSpecLocation(group, kind);
    if (location === null) throw new Error(`no location for ${groupKind}`);
    const object: Record<string, unknown> = { apiVersion: 'v1', kind, metadata: { name: 'top' } };
    let node = object;
    const path = location.specPath;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1] ?? 'spec'] = spec;
    if (meta !== undefined) node['metadata'] = meta;
    return {
      uid: 'u',
      kind: { group, version: 'v1', kind },
      subResource: '',
      operation: 'CREATE',
      namespace: 'team',
      name: 'w',
      object,
      oldObject: null,
      dryRun: false,
    };
  });

function patchOf(req: AdmissionRequest): fjp.Operation[] {
  const outcome = mutate(policy, req, 'enforce');
  const patch = outcome.response.patch;
  return patch === undefined
    ? []
    : (JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as fjp.Operation[]);
}

describe('mutation properties', () => {
  it('any generated object gets a patch that applies under strict RFC 6902, touches only what it must, and a second pass patches nothing', () => {
    fc.assert(
      fc.property(request, (req) => {
        const ops = patchOf(req);
        for (const op of ops) {
          expect(op.path).toMatch(
            /\/(image|image\/reference|imagePullSecrets(\/-)?|metadata(\/annotations(\/.*)?)?)$/,
          );
        }
        // validateOperation = true: a pointer into a missing parent or array fails here as in the apiserver.
        const patched = fjp.applyPatch(structuredClone(req.object), ops, true, false).newDocument;
        const again = { ...req, object: patched };
        expect(patchOf(again)).toEqual([]);
        // What the mutator rewrote, the validator allows (it does not trust that mutation ran).
        if (ops.some((op) => op.op === 'replace')) {
          const before = validate(policy, req, 'enforce').violations.length;
          expect(validate(policy, again, 'enforce').violations.length).toBeLessThanOrEqual(before);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('an UPDATE of any generated Pod patches no pull secrets and applies under strict RFC 6902', () => {
    const pod = request.filter((r) => r.kind.kind === 'Pod');
    fc.assert(
      fc.property(pod, pod, (old, now) => {
        const req: AdmissionRequest = { ...now, operation: 'UPDATE', oldObject: old.object };
        const ops = patchOf(req);
        expect(ops.filter((op) => op.path.includes('imagePullSecrets'))).toEqual([]);
        const patched = fjp.applyPatch(structuredClone(req.object), ops, true, false).newDocument;
        expect(patchOf({ ...req, object: patched })).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

/** What a mirror could say about any image: the same answer for every key. */
class EveryKey extends Map<string, MirrorAnswer> {
  constructor(private readonly answer: MirrorAnswer) {
    super([['(any image)', answer]]);
  }
  override get(): MirrorAnswer {
    return this.answer;
  }
}
const anyAnswer = fc.constantFrom<MirrorAnswer>(
  { status: 'found', digest: `sha256:${'c'.repeat(64)}`, httpStatus: 200 },
  { status: 'missing', httpStatus: 404, reason: 'not in the mirror (HTTP 404)' },
  { status: 'error', httpStatus: null, reason: 'the mirror did not answer in time' },
);
const mode = fc.constantFrom('enforce' as const, 'warn' as const, 'audit' as const);

describe('mirror verification properties', () => {
  it("with verify off and pin none, nothing is asked, and whatever a mirror says, every answer is byte-identical to today's", () => {
    fc.assert(
      fc.property(request, anyAnswer, mode, (req, answer, m) => {
        for (const phase of ['mutate', 'validate'] as const) {
          expect(mirrorLookups(policy, evaluateRequest(policy, req, phase), phase)).toEqual([]);
        }
        const answers = new EveryKey(answer);
        const evaluation = withMirrorAnswers(evaluateRequest(policy, req, 'mutate'), answers, 'mutate');
        const evaluationV = withMirrorAnswers(evaluateRequest(policy, req, 'validate'), answers, 'validate');
        const context = { missingPullSecrets: new Set<string>(), evaluation };
        expect(JSON.stringify(mutate(policy, req, m, context).response)).toBe(
          JSON.stringify(mutate(policy, req, m).response),
        );
        expect(JSON.stringify(validate(policy, req, m, undefined, evaluationV).response)).toBe(
          JSON.stringify(validate(policy, req, m).response),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('with pin: digest, the pinned object applies under strict RFC 6902 and a second pass patches nothing', () => {
    const pinning = loadPolicyText(
      `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  rewriteTemplates: true
  mirrors:
    - {source: docker.io, mirror: mirror.corp.example/hub, verify: warn, pin: digest}
    - {source: quay.io, mirror: mirror.corp.example/quay, verify: enforce, pin: digest}
  registrySources: {allowedRegistries: [mirror.corp.example, "*.corp.example"]}
  pullSecrets:
    - {registry: mirror.corp.example, secretName: corp-pull}
`,
    );
    if (!pinning.ok) throw new Error(pinning.errors.join('\n'));
    const p = pinning.policy;
    const found = new EveryKey({ status: 'found', digest: `sha256:${'d'.repeat(64)}`, httpStatus: 200 });
    const patch = (req: AdmissionRequest): fjp.Operation[] => {
      const evaluation = withMirrorAnswers(evaluateRequest(p, req, 'mutate'), found, 'mutate');
      const out = mutate(p, req, 'enforce', { missingPullSecrets: new Set(), evaluation }).response.patch;
      return out === undefined
        ? []
        : (JSON.parse(Buffer.from(out, 'base64').toString('utf8')) as fjp.Operation[]);
    };
    fc.assert(
      fc.property(request, (req) => {
        const ops = patch(req);
        for (const op of ops.filter((o) => o.op === 'replace'))
          expect((op as { value: string }).value).toMatch(
            /^mirror\.corp\.example\/[^@]*@sha256:[0-9a-f]{64}$/,
          );
        const patched = fjp.applyPatch(structuredClone(req.object), ops, true, false).newDocument;
        expect(patch({ ...req, object: patched })).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('large inputs answer at once', () => {
  // Generous bounds: these fail on a hang or a quadratic blow-up, not on a slow shared machine.
  const piece = fc.constantFrom(
    'a',
    '.',
    '-',
    '_',
    '__',
    '/',
    ':',
    '@',
    'sha256:',
    'A',
    '[',
    ']',
    '0',
    'f'.repeat(64),
  );
  const hundredKb = fc
    .array(piece, { minLength: 1, maxLength: 20 })
    .map((pieces) => pieces.join('').repeat(Math.ceil(100_000 / Math.max(1, pieces.join('').length))));

  it('a 100 KB image string of any shape, in every place of a Pod', () => {
    fc.assert(
      fc.property(hundredKb, (long) => {
        const req: AdmissionRequest = {
          uid: 'u',
          kind: { group: '', version: 'v1', kind: 'Pod' },
          subResource: '',
          operation: 'CREATE',
          namespace: 'team',
          name: 'p',
          object: {
            spec: {
              initContainers: [{ name: 'i', image: long }],
              containers: [{ name: 'c', image: `nginx:${long}` }],
              volumes: [{ name: 'v', image: { reference: `${long}/x` } }],
            },
          },
          oldObject: null,
          dryRun: false,
        };
        const started = performance.now();
        mutate(policy, req, 'enforce');
        validate(policy, req, 'enforce');
        expect(performance.now() - started).toBeLessThan(2_000);
      }),
      { numRuns: 30 },
    );
  });

  it('a Pod with 1000 containers', () => {
    const containers = Array.from({ length: 1000 }, (_, i) => ({ name: `c${i}`, image: `nginx:${i}` }));
    const req: AdmissionRequest = {
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      subResource: '',
      operation: 'CREATE',
      namespace: 'team',
      name: 'p',
      object: { spec: { containers } },
      oldObject: null,
      dryRun: false,
    };
    const started = performance.now();
    const ops = patchOf(req);
    expect(ops.filter((op) => op.op === 'replace')).toHaveLength(1000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
