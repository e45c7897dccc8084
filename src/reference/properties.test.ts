import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatReference, parseNormalizedReference, parseReference } from './index.js';

describe('reference grammar properties', () => {
  it('never throws, whatever the string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        parseReference(s);
        parseNormalizedReference(s);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on reference-shaped strings', () => {
    const piece = fc.constantFrom(
      'a',
      'B',
      '0',
      '.',
      '-',
      '_',
      '__',
      ':',
      '/',
      '@',
      '[',
      ']',
      'sha256',
      'localhost',
      'docker.io',
      'f'.repeat(64),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        parseNormalizedReference(pieces.join(''));
      }),
      { numRuns: 3000 },
    );
  });

  it('normalization is idempotent: a normalized reference parses to itself', () => {
    const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, { maxLength: 20 });
    const host = fc.constantFrom(
      '',
      'localhost/',
      'quay.io/',
      'registry.mycorp.com:5000/',
      '[::1]:5000/',
      'index.docker.io/',
      'docker.io/',
    );
    const tag = fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined });
    const digest = fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined });
    fc.assert(
      fc.property(host, fc.array(component, { minLength: 1, maxLength: 4 }), tag, digest, (h, path, t, d) => {
        const input = `${h}${path.join('/')}${t === undefined ? '' : `:${t}`}${d === undefined ? '' : `@sha256:${d}`}`;
        const first = parseNormalizedReference(input);
        if (!first.ok) return; // e.g. a 64-hex single component: refused, tested by the vectors
        const again = parseNormalizedReference(formatReference(first.ref));
        expect(again).toEqual(first);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers at once on any 100 KB string built from grammar pieces', () => {
    const piece = fc.constantFrom(
      'a',
      'Z',
      '0',
      '.',
      '-',
      '_',
      '__',
      ':',
      '/',
      '@',
      '[',
      ']',
      'sha256:',
      'f'.repeat(64),
    );
    const hundredKb = fc
      .array(piece, { minLength: 1, maxLength: 12 })
      .map((pieces) => pieces.join('').repeat(Math.ceil(100_000 / pieces.join('').length)));
    fc.assert(
      fc.property(hundredKb, fc.constantFrom('', 'x', '!', 'A'), (long, tail) => {
        const started = performance.now();
        parseNormalizedReference(long + tail);
        parseReference(tail + long);
        // Generous: a backtracking parser takes seconds to forever here; a linear one a millisecond or two.
        expect(performance.now() - started).toBeLessThan(1_000);
      }),
      { numRuns: 100 },
    );
  });

  // Inputs that make a backtracking port of the upstream expressions run for seconds or forever. A hang here
  // times the test out; the figures themselves live in the benchmark.
  it.each([
    ['long path of separators', `${'a.'.repeat(50_000)}!`],
    ['long domain-like first component', `${'a-'.repeat(50_000)}/x!`],
    ['long tag-like run', `nginx:${'a'.repeat(100_000)}`],
    ['many path components', `${'a/'.repeat(50_000)}A`],
    ['digest of 100k hex', `nginx@sha256:${'f'.repeat(100_000)}`],
  ])('answers at once on a 100 KB adversarial input (%s)', (_name, input) => {
    expect(parseNormalizedReference(input).ok).toBe(false);
  });
});
