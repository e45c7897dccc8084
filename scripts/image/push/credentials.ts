import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyCovers } from '../../../src/pull-secrets/docker-config.js';
import { ImageError } from '../errors.js';

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * The credentials for `registry` (`host[:port]`) in `<dockerConfigDir>/config.json`, the file `docker login` writes
 * (`$DOCKER_CONFIG`, by default `~/.docker`): an `auths` entry's `auth` (base64 `user:password`) or its `username`
 * and `password`, matched as the kubelet matches pull secrets. No file, or no entry: `undefined` (anonymous).
 * Credentials kept by a credential helper (`credsStore`, `credHelpers`) or only as tokens are not read: that is a
 * one-line `CREDENTIALS` error saying so, never a silent anonymous push. Messages never hold a secret.
 */
export async function credentialsFor(
  registry: string,
  dockerConfigDir: string,
): Promise<BasicCredentials | undefined> {
  const file = join(dockerConfigDir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ImageError('CREDENTIALS', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new ImageError('CREDENTIALS', `${file} is not JSON`);
  }
  if (!isMap(config)) throw new ImageError('CREDENTIALS', `${file} is not a JSON object`);

  const helpers = isMap(config['credHelpers']) ? config['credHelpers'] : {};
  const helper = Object.entries(helpers).find(([key]) => keyCovers(key, registry));
  if (helper !== undefined) throw helperError(registry, String(helper[1]), 'credHelpers', file);

  const auths = isMap(config['auths']) ? config['auths'] : {};
  const entry = Object.entries(auths).find(([key]) => keyCovers(key, registry))?.[1];
  const found = isMap(entry) ? inline(entry, registry, file) : undefined;
  if (found === undefined && typeof config['credsStore'] === 'string' && config['credsStore'] !== '')
    throw helperError(registry, config['credsStore'], 'credsStore', file);
  return found;
}

function inline(
  entry: Record<string, unknown>,
  registry: string,
  file: string,
): BasicCredentials | undefined {
  const text = (key: string): string => (typeof entry[key] === 'string' ? entry[key] : '');
  if (text('auth') !== '') {
    const decoded = Buffer.from(text('auth'), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0)
      throw new ImageError(
        'CREDENTIALS',
        `${file}: the auth of the entry for ${registry} is not base64 of user:password`,
      );
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (text('username') !== '' && text('password') !== '')
    return { username: text('username'), password: text('password') };
  if (text('identitytoken') !== '' || text('registrytoken') !== '')
    throw new ImageError(
      'CREDENTIALS',
      `${file}: the entry for ${registry} holds a token, which needs the Bearer token flow that the image push does not speak yet`,
    );
  return undefined;
}

function helperError(registry: string, helper: string, where: string, file: string): ImageError {
  return new ImageError(
    'CREDENTIALS',
    `${file}: credentials for ${registry} are kept by docker-credential-${helper} (${where}), which the image push does not call; use a DOCKER_CONFIG whose config.json holds them in "auths"`,
  );
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
