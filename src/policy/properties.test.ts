import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatReference } from '../reference/index.js';
import { evaluateImage, loadPolicyText } from './index.js';

const loaded = loadPolicyText(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  shortNames: {aliases: {tools: quay.io/acme/tools}}
  mirrors:
    - {source: docker.io, mirror: mirror.corp.example/hub}
    - {source: quay.io, mirror: mirror.corp.example/quay}
    - {source: quay.io/payload, mirror: mirror.corp.example/payload-digests, digestOnly: true}
    - {source: quay.io/payload, mirror: mirror.corp.example/payload-tags, tagOnly: true}
    - {source: "ghcr.io:5000/org", mirror: mirror.corp.example/ghcr-org}
  registrySources: {allowedRegistries: [mirror.corp.example, "*.corp.example"]}
`);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const policy = loaded.policy;

const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, { maxLength: 12 });
const image = fc
  .record({
    host: fc.constantFrom(
      '',
      'docker.io/',
      'QUAY.IO/',
      'quay.io/',
      'quay.io/payload/',
      'ghcr.io:5000/org/',
      'registry-1.docker.io/',
      'mirror.corp.example/hub/',
      'a.corp.example/',
      'tools',
    ),
    path: fc.array(component, { minLength: 1, maxLength: 3 }),
    tag: fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/), { nil: undefined }),
    digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
  })
  .map(({ host, path, tag, digest }) => {
    const name = host === 'tools' ? 'tools' : `${host}${path.join('/')}`;
    return `${name}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@sha256:${digest}`}`;
  });

describe('rewrite properties', () => {
  it('is idempotent: the final image of an allowed image is final again, with no rewrite', () => {
    fc.assert(
      fc.property(image, (input) => {
        const first = evaluateImage(policy, input, { judge: 'final' });
        if (first.final === null) return;
        const finalText = formatReference(first.final);
        const again = evaluateImage(policy, finalText, { judge: 'final' });
        expect(again.final && formatReference(again.final)).toBe(finalText);
        expect(again.rewrite).toBe(false);
        expect(again.decision).toBe(first.decision);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps tag and digest through every rewrite', () => {
    fc.assert(
      fc.property(image, (input) => {
        const d = evaluateImage(policy, input, { judge: 'final' });
        if (d.final === null || d.resolved === null) return;
        expect({ tag: d.final.tag, digest: d.final.digest }).toEqual({
          tag: d.resolved.tag,
          digest: d.resolved.digest,
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (input) => {
        evaluateImage(policy, input, { judge: 'final', namespace: 'x' });
        evaluateImage(policy, input, { judge: 'as-written' });
      }),
      { numRuns: 3000 },
    );
  });
});
