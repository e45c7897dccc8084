import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageError } from '../errors.js';
import { credentialsFor } from './credentials.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const REGISTRY = '127.0.0.1:5000';

describe('credentialsFor', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'registry-gate-docker-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const withConfig = async (config: unknown): Promise<string> => {
    await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    return dir;
  };

  it.each<[string, unknown, { username: string; password: string } | undefined]>([
    [
      'auth, as docker login writes it',
      { auths: { [REGISTRY]: { auth: b64('robot:pa:ss') } } },
      { username: 'robot', password: 'pa:ss' },
    ],
    [
      'username and password',
      { auths: { [REGISTRY]: { username: 'u', password: 'p' } } },
      { username: 'u', password: 'p' },
    ],
    [
      'a key with a scheme and a path',
      { auths: { [`https://${REGISTRY}/v2/`]: { auth: b64('u:p') } } },
      undefined,
    ],
    [
      'a key with a scheme',
      { auths: { [`https://${REGISTRY}`]: { auth: b64('u:p') } } },
      { username: 'u', password: 'p' },
    ],
    ['another port', { auths: { '127.0.0.1:5001': { auth: b64('u:p') } } }, undefined],
    ['no entry', { auths: {} }, undefined],
    ['an entry without credentials and no helper', { auths: { [REGISTRY]: {} } }, undefined],
    [
      'inline credentials beside a credsStore',
      { credsStore: 'desktop', auths: { [REGISTRY]: { auth: b64('u:p') } } },
      { username: 'u', password: 'p' },
    ],
  ])('reads %s', async (_name, config, expected) => {
    expect(await credentialsFor(REGISTRY, await withConfig(config))).toEqual(expected);
  });

  it('is anonymous when there is no config.json', async () => {
    expect(await credentialsFor(REGISTRY, join(dir, 'absent'))).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['not JSON', '{"auths":'],
    ['not an object', '[]'],
    [
      'a credential helper for the registry',
      { credHelpers: { [REGISTRY]: 'secretservice' }, auths: { [REGISTRY]: { auth: b64('u:p') } } },
    ],
    ['a credsStore and no inline credentials', { credsStore: 'desktop', auths: { [REGISTRY]: {} } }],
    ['an identity token', { auths: { [REGISTRY]: { identitytoken: 'refresh' } } }],
    ['auth that is not user:password', { auths: { [REGISTRY]: { auth: b64('nocolon') } } }],
  ])('refuses %s with one line that holds no secret', async (_name, config) => {
    const error = await credentialsFor(REGISTRY, await withConfig(config)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).code).toBe('CREDENTIALS');
    expect((error as ImageError).message).not.toContain('\n');
    expect((error as ImageError).message).not.toMatch(/refresh|nocolon|bm9jb2xvbg/);
  });
});
