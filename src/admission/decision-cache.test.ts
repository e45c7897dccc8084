import { describe, expect, it } from 'vitest';
import { evaluateImage, loadPolicyText, type CompiledPolicy } from '../policy/index.js';
import { DecisionCache } from '../engine/decision-cache.js';
import { mutate } from './mutate.js';
import type { AdmissionRequest } from './review.js';
import { validate } from './validate.js';

function policyOf(text: string): CompiledPolicy {
  const loaded = loadPolicyText(text);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.policy;
}

const MIRRORING = policyOf(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  mirrors: [{source: docker.io, mirror: registry.mycorp.com/dockerhub}]
  registrySources: {allowedRegistries: [registry.mycorp.com]}
  exemptions: {namespaces: [registry-mirror]}
`);
// The next generation: docker.io is now allowed as it is, without a mirror.
const DIRECT = policyOf(`apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  registrySources: {allowedRegistries: [docker.io]}
`);

const FINAL = { judge: 'final', namespace: 'team-a' } as const;

describe('DecisionCache', () => {
  it('answers what evaluateImage answers, and the same object on a repeat', () => {
    const cache = new DecisionCache(8);
    const first = cache.decide(1, MIRRORING, 'nginx:1.27', FINAL);
    expect(first).toEqual(evaluateImage(MIRRORING, 'nginx:1.27', FINAL));
    expect(cache.decide(1, MIRRORING, 'nginx:1.27', FINAL)).toBe(first);
    expect(cache.size).toBe(1);
  });

  it('keeps judge and namespace apart: they change the decision', () => {
    const cache = new DecisionCache(8);
    const final = cache.decide(1, MIRRORING, 'nginx:1.27', FINAL);
    const asWritten = cache.decide(1, MIRRORING, 'nginx:1.27', { judge: 'as-written', namespace: 'team-a' });
    const exempt = cache.decide(1, MIRRORING, 'nginx:1.27', { judge: 'final', namespace: 'registry-mirror' });
    const noNamespace = cache.decide(1, MIRRORING, 'nginx:1.27', { judge: 'final' });
    expect([final.decision, asWritten.decision, exempt.decision]).toEqual(['allow', 'deny', 'exempt']);
    expect(noNamespace.decision).toBe('allow');
    expect(noNamespace).not.toBe(final);
    expect(cache.size).toBe(4);
  });

  it('forgets every decision when the policy generation changes', () => {
    const cache = new DecisionCache(8);
    expect(cache.decide(1, MIRRORING, 'nginx:1.27', FINAL).rewrite).toBe(true);
    cache.decide(1, MIRRORING, 'redis:7', FINAL);
    const next = cache.decide(2, DIRECT, 'nginx:1.27', FINAL);
    expect(next.rewrite).toBe(false);
    expect(next.decision).toBe('allow');
    expect(cache.size).toBe(1);
  });

  it('forgets when the policy object changes even at the same generation number (another store)', () => {
    const cache = new DecisionCache(8);
    cache.decide(1, MIRRORING, 'nginx:1.27', FINAL);
    expect(cache.decide(1, DIRECT, 'nginx:1.27', FINAL).rewrite).toBe(false);
  });

  it('holds at most its capacity, dropping the least recently used', () => {
    const cache = new DecisionCache(3);
    const a = cache.decide(1, MIRRORING, 'a:1', FINAL);
    cache.decide(1, MIRRORING, 'b:1', FINAL);
    cache.decide(1, MIRRORING, 'c:1', FINAL);
    expect(cache.decide(1, MIRRORING, 'a:1', FINAL)).toBe(a); // a is now the most recent
    const d = cache.decide(1, MIRRORING, 'd:1', FINAL); // drops b
    expect(cache.size).toBe(3);
    expect(cache.decide(1, MIRRORING, 'a:1', FINAL)).toBe(a);
    expect(cache.decide(1, MIRRORING, 'd:1', FINAL)).toBe(d);
    const b = cache.decide(1, MIRRORING, 'b:1', FINAL); // computed again: drops c
    expect(b).toEqual(evaluateImage(MIRRORING, 'b:1', FINAL));
    expect(cache.size).toBe(3);
    for (let i = 0; i < 100; i++) cache.decide(1, MIRRORING, `img-${i}:1`, FINAL);
    expect(cache.size).toBe(3);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects capacity %s', (capacity) => {
    expect(() => new DecisionCache(capacity)).toThrow(RangeError);
  });
});

describe('mutate and validate with a shared cache', () => {
  const request = (images: readonly string[]): AdmissionRequest => ({
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    subResource: '',
    operation: 'CREATE',
    namespace: 'team-a',
    name: 'p',
    object: { metadata: {}, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } },
    oldObject: null,
    dryRun: false,
  });
  const images = ['nginx:1.27', 'nginx:1.27', 'quay.io/x/y:1', 'registry.mycorp.com/a:1', 'nginx:1.27'];

  it('give the same answers as without one, across two policy generations', () => {
    const cache = new DecisionCache(2);
    for (const [generation, policy] of [
      [1, MIRRORING],
      [2, DIRECT],
      [1, MIRRORING],
    ] as const) {
      const decide = (image: string, c: Parameters<DecisionCache['decide']>[3]) =>
        cache.decide(generation, policy, image, c);
      for (let round = 0; round < 2; round++) {
        expect(mutate(policy, request(images), 'enforce', { missingPullSecrets: new Set(), decide })).toEqual(
          mutate(policy, request(images), 'enforce'),
        );
        expect(validate(policy, request(images), 'enforce', decide)).toEqual(
          validate(policy, request(images), 'enforce'),
        );
      }
    }
  });

  it('decides a repeated image once per request', () => {
    const asked: string[] = [];
    const decide = (image: string, c: Parameters<DecisionCache['decide']>[3]) => {
      asked.push(image);
      return evaluateImage(MIRRORING, image, c);
    };
    mutate(MIRRORING, request(images), 'enforce', { missingPullSecrets: new Set(), decide });
    expect(asked).toEqual(['nginx:1.27', 'quay.io/x/y:1', 'registry.mycorp.com/a:1']);
  });
});
