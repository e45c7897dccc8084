import { describe, expect, it } from 'vitest';
import { credentialsFor } from './docker-config.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('credentialsFor: the credentials the kubelet would send for a repository', () => {
  it.each([
    [
      'auth field',
      { 'mirror.corp': { auth: b64('robot:pa:ss') } },
      'mirror.corp/hub/nginx',
      'robot',
      'pa:ss',
    ],
    ['username and password', { 'mirror.corp': { username: 'u', password: 'p' } }, 'mirror.corp/x', 'u', 'p'],
    ['scheme in the key', { 'https://mirror.corp': { auth: b64('u:p') } }, 'mirror.corp/x', 'u', 'p'],
    ['port must match', { 'mirror.corp:5000': { auth: b64('u:p') } }, 'mirror.corp:5000/x', 'u', 'p'],
    [
      'a key with a path beats its host',
      { 'mirror.corp': { auth: b64('host:h') }, 'mirror.corp/hub': { auth: b64('path:p') } },
      'mirror.corp/hub/nginx',
      'path',
      'p',
    ],
    [
      'a host beats a glob',
      { '*.corp': { auth: b64('glob:g') }, 'mirror.corp': { auth: b64('host:h') } },
      'mirror.corp/x',
      'host',
      'h',
    ],
  ])('%s', (_name, auths, repository, username, password) => {
    expect(credentialsFor({ auths }, repository)).toEqual({
      ok: true,
      key: expect.any(String) as string,
      credentials: { username, password },
    });
  });

  it.each([
    ['not a map', 'text', 'MALFORMED'],
    ['no auths', { credsStore: 'desktop' }, 'MALFORMED'],
    ['no entry for the host', { auths: { 'other.corp': { auth: b64('u:p') } } }, 'NO_ENTRY'],
    ['another port', { auths: { 'mirror.corp:5000': { auth: b64('u:p') } } }, 'NO_ENTRY'],
    ['auth without a colon', { auths: { 'mirror.corp': { auth: b64('token') } } }, 'MALFORMED'],
    ['identity token only', { auths: { 'mirror.corp': { identitytoken: 'x' } } }, 'NO_CREDENTIALS'],
  ])('%s: %s', (_name, config, code) => {
    const got = credentialsFor(config, 'mirror.corp/x');
    expect(got).toMatchObject({ ok: false, code });
    expect(JSON.stringify(got)).not.toMatch(/token"|u:p|dTpw/);
  });
});
