import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChallenges } from './www-authenticate.js';

describe('parseChallenges', () => {
  it.each([
    [
      'distribution token challenge',
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:library/nginx:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.example/token',
            service: 'registry.example',
            scope: 'repository:library/nginx:pull',
          },
          token68: null,
        },
      ],
    ],
    [
      'commas and an escaped quote inside a quoted value',
      'Bearer realm="https://a/t?x=1,2",scope="repository:a/b:pull,push",error="say \\"no\\""',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://a/t?x=1,2', scope: 'repository:a/b:pull,push', error: 'say "no"' },
          token68: null,
        },
      ],
    ],
    [
      'two challenges in one header, spaces around "="',
      'Basic realm = "Registry Realm" , Bearer realm="https://a/token", service=reg',
      [
        { scheme: 'basic', params: { realm: 'Registry Realm' }, token68: null },
        { scheme: 'bearer', params: { realm: 'https://a/token', service: 'reg' }, token68: null },
      ],
    ],
    [
      'scheme and parameter names are case-insensitive',
      'BEARER Realm="https://a/token",SERVICE="s"',
      [{ scheme: 'bearer', params: { realm: 'https://a/token', service: 's' }, token68: null }],
    ],
    [
      'token68 form, then a challenge with parameters',
      'Negotiate abc+/==, Basic realm="r"',
      [
        { scheme: 'negotiate', params: {}, token68: 'abc+/==' },
        { scheme: 'basic', params: { realm: 'r' }, token68: null },
      ],
    ],
    ['a bare scheme', 'Basic', [{ scheme: 'basic', params: {}, token68: null }]],
    [
      'the first of a repeated parameter wins',
      'Bearer realm="a",realm="b"',
      [{ scheme: 'bearer', params: { realm: 'a' }, token68: null }],
    ],
    [
      'an unterminated quoted value takes the rest',
      'Bearer realm="https://a/token',
      [{ scheme: 'bearer', params: { realm: 'https://a/token' }, token68: null }],
    ],
    ['empty', '', []],
    ['garbage stops the list', '"quoted scheme"', []],
  ])('%s', (_name, header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        expect(Array.isArray(parseChallenges(text))).toBe(true);
      }),
    );
  });

  it('reads back any quoted value it is given', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (value) => {
        const quoted = `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
        const [challenge] = parseChallenges(`Bearer realm=${quoted},service="s"`);
        expect(challenge?.params).toEqual({ realm: value, service: 's' });
      }),
    );
  });
});
