import { describe, expect, it } from 'vitest';
import { checkSource, keyCovers } from './docker-config.js';
import type { SecretSnapshot } from './types.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const dockerConfig = (auths: unknown): string => b64(JSON.stringify({ auths }));
const secret = (over: Partial<SecretSnapshot> = {}): SecretSnapshot => ({
  namespace: 'gate',
  name: 'src',
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': dockerConfig({ 'registry.mycorp.com': { auth: b64('robot:s3cr3t') } }) },
  labels: {},
  annotations: {},
  ...over,
});

describe('keyCovers: which auths key the kubelet uses for a registry prefix', () => {
  it.each([
    ['same host', 'registry.mycorp.com', 'registry.mycorp.com', true],
    ['scheme ignored', 'https://registry.mycorp.com', 'registry.mycorp.com', true],
    ['host case-insensitive', 'Registry.MyCorp.com', 'registry.mycorp.com', true],
    ['key covers a deeper prefix', 'registry.mycorp.com', 'registry.mycorp.com/dockerhub', true],
    [
      'key path is a prefix of the registry path',
      'registry.mycorp.com/dockerhub',
      'registry.mycorp.com/dockerhub/x',
      true,
    ],
    ['key path deeper than the registry', 'registry.mycorp.com/dockerhub', 'registry.mycorp.com', false],
    ['key path on another component', 'registry.mycorp.com/docker', 'registry.mycorp.com/dockerhub', false],
    ['other host', 'quay.io', 'registry.mycorp.com', false],
    ['subdomain is not the host', 'mycorp.com', 'registry.mycorp.com', false],
    ['glob label', '*.mycorp.com', 'registry.mycorp.com', true],
    ['glob stands for one label only', '*.com', 'registry.mycorp.com', false],
    ['ports must be equal', 'registry.mycorp.com:5000', 'registry.mycorp.com:5000/x', true],
    ['key with port, registry without', 'registry.mycorp.com:5000', 'registry.mycorp.com', false],
    ['key without port, registry with', 'registry.mycorp.com', 'registry.mycorp.com:5000', false],
    ['Docker Hub legacy key', 'https://index.docker.io/v1/', 'docker.io', true],
    ['Docker Hub alias', 'registry-1.docker.io', 'docker.io/library', true],
  ])('%s: %s for %s', (_name, key, registry, expected) => {
    expect(keyCovers(key, registry)).toBe(expected);
  });
});

describe('checkSource', () => {
  it.each([
    ['a good source', secret(), ['registry.mycorp.com'], true, []],
    [
      'one source for two prefixes of the host',
      secret(),
      ['registry.mycorp.com/a', 'registry.mycorp.com/b'],
      true,
      [],
    ],
    ['missing', undefined, ['registry.mycorp.com'], false, ['SOURCE_NOT_FOUND']],
    ['opaque Secret', secret({ type: 'Opaque' }), ['registry.mycorp.com'], false, ['SOURCE_WRONG_TYPE']],
    [
      'legacy dockercfg',
      secret({ type: 'kubernetes.io/dockercfg' }),
      ['registry.mycorp.com'],
      false,
      ['SOURCE_WRONG_TYPE'],
    ],
    ['no .dockerconfigjson key', secret({ data: {} }), ['registry.mycorp.com'], false, ['SOURCE_MALFORMED']],
    [
      'not JSON',
      secret({ data: { '.dockerconfigjson': b64('{nope') } }),
      ['r.io'],
      false,
      ['SOURCE_MALFORMED'],
    ],
    [
      'no auths',
      secret({ data: { '.dockerconfigjson': b64('{"credsStore":"x"}') } }),
      ['r.io'],
      false,
      ['SOURCE_MALFORMED'],
    ],
    ['credentials for another host', secret(), ['quay.io'], true, ['SOURCE_NO_CREDENTIALS']],
    [
      'entry without credentials',
      secret({ data: { '.dockerconfigjson': dockerConfig({ 'registry.mycorp.com': { email: 'a@b' } }) } }),
      ['registry.mycorp.com'],
      true,
      ['SOURCE_NO_CREDENTIALS'],
    ],
    [
      'auth that is not user:password',
      secret({
        data: { '.dockerconfigjson': dockerConfig({ 'registry.mycorp.com': { auth: b64('token') } }) },
      }),
      ['registry.mycorp.com'],
      true,
      ['SOURCE_NO_CREDENTIALS'],
    ],
    [
      'username and password',
      secret({
        data: {
          '.dockerconfigjson': dockerConfig({ 'registry.mycorp.com': { username: 'u', password: 'p' } }),
        },
      }),
      ['registry.mycorp.com'],
      true,
      [],
    ],
    [
      'identity token',
      secret({
        data: { '.dockerconfigjson': dockerConfig({ 'registry.mycorp.com': { identitytoken: 't' } }) },
      }),
      ['registry.mycorp.com'],
      true,
      [],
    ],
  ])('%s', (_name, source, registries, usable, codes) => {
    const check = checkSource(source, registries);
    expect(check.usable).toBe(usable);
    expect(check.problems.map((p) => p.code)).toEqual(codes);
  });

  it('never puts a credential in a problem message', () => {
    const leaky = secret({
      data: {
        '.dockerconfigjson': dockerConfig({ 'registry.mycorp.com': { auth: b64('s3cr3t-no-colon') } }),
      },
    });
    const messages = [
      ...checkSource(leaky, ['registry.mycorp.com', 'quay.io']).problems,
      ...checkSource(secret({ data: { '.dockerconfigjson': b64('s3cr3t{') } }), ['r.io']).problems,
    ].map((p) => p.message);
    expect(messages).toHaveLength(3);
    for (const m of messages) expect(m).not.toMatch(/s3cr3t|czNjcjN0/);
  });
});
