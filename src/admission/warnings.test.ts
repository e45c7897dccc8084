// Warnings reach people through kubectl only when the apiserver keeps them whole: it may truncate one longer than
// 256 characters (AdmissionResponse.warnings, admission.k8s.io/v1). Whatever the reference, each warning must
// fit, and the reference the Pods will pull must be there in full, digest included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateImage, loadPolicyText } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import { mutate } from './mutate.js';
import type { AdmissionRequest } from './review.js';
import { validate } from './validate.js';

const loaded = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors:
    - {source: quay.io, mirror: registry.mycorp.com/quay/a-long-mirror-path-for-every-organisation}
  registrySources:
    allowedRegistries: [registry.mycorp.com]
    insecureRegistries: [registry.mycorp.com]
`);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const policy = loaded.policy;

const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, { maxLength: 60 });
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`);
/** quay.io references of any length the grammar allows, with a tag, a digest, or both. */
const reference = fc
  .record({
    path: fc.array(component, { minLength: 1, maxLength: 8 }),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .map(({ path, tag: t, digest: d }) => {
    const name = `quay.io/${path.join('/')}`.slice(0, 255).replace(/[._/-]+$/, '');
    return `${name}${t === undefined ? '' : `:${t}`}${d === undefined ? '' : `@${d}`}`;
  })
  .filter((image) => evaluateImage(policy, image, { judge: 'final' }).error === null);

const containerName = fc.oneof(fc.constant('web'), fc.string({ minLength: 0, maxLength: 300 }));

function deployment(image: string, name: string): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    subResource: '',
    operation: 'CREATE',
    namespace: 'shop',
    name: 'd',
    object: { spec: { template: { spec: { containers: [{ name, image }] } } } },
    oldObject: null,
    dryRun: false,
  };
}

const PULLED = ' will be pulled as ';

/** The reference a template's warnings say its Pods will pull: whole, or its pieces `(k/n): …` joined. */
function pulledFrom(warnings: readonly string[]): string | null {
  const pieces = warnings.flatMap((w) => {
    const at = w.indexOf(PULLED);
    if (at === -1) return [];
    const rest = w.slice(at + PULLED.length);
    const piece = /^\((\d+)\/(\d+)\): (.*)$/.exec(rest);
    return [piece === null ? rest.replace(/ \(mirror of [^)]*\)$/, '') : piece[3]!];
  });
  return pieces.length === 0 ? null : pieces.join('');
}

describe('warnings fit the apiserver whole', () => {
  it('a rewrite warning: each at most 256 characters, container path first, the final reference whole', () => {
    fc.assert(
      fc.property(reference, containerName, (image, name) => {
        const warnings = mutate(policy, deployment(image, name), 'enforce').response.warnings ?? [];
        for (const w of warnings) expect(w.length).toBeLessThanOrEqual(256);
        const decision = evaluateImage(policy, image, { judge: 'final', namespace: 'shop' });
        const final = formatReference(decision.final!);
        const pulled = warnings.filter((w) => w.includes(PULLED));
        for (const w of pulled) expect(w).toMatch(/^spec\.template\.spec\.containers\[0\]/);
        expect(pulledFrom(warnings)).toBe(final);
        // The digest is what makes the pull exact: never cut in two.
        if (decision.final?.digest)
          expect(warnings.some((w) => w.includes(decision.final!.digest!))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('every warning of warn mode fits too', () => {
    fc.assert(
      fc.property(reference, containerName, (image, name) => {
        const outcome = validate(
          policy,
          {
            ...deployment(image, name),
            kind: { group: '', version: 'v1', kind: 'Pod' },
            object: { spec: { containers: [{ name, image }] } },
          },
          'warn',
        );
        for (const w of outcome.response.warnings ?? []) expect(w.length).toBeLessThanOrEqual(256);
      }),
      { numRuns: 200 },
    );
  });

  it('a short reference keeps the one-line wording kubectl users already see', () => {
    const warnings = mutate(policy, deployment('quay.io/org/app:1', 'web'), 'enforce').response.warnings;
    expect(warnings).toEqual([
      'registry.mycorp.com/quay/a-long-mirror-path-for-every-organisation/org/app:1 is pulled from an insecure registry ("registry.mycorp.com")',
      'spec.template.spec.containers[0] "web": quay.io/org/app:1 will be pulled as registry.mycorp.com/quay/a-long-mirror-path-for-every-organisation/org/app:1 (mirror of quay.io)',
    ]);
  });
});
