import { describe, expect, it } from 'vitest';
import { ImageError, type ImageErrorCode } from '../errors.js';
import { authorization } from './auth.js';

const robot = { username: 'robot', password: 's3cret' };

describe('authorization', () => {
  it('needs nothing when the registry lets everyone in', () => {
    expect(authorization('r:5000', undefined, robot)).toBeUndefined();
  });

  it('answers a Basic challenge with the credentials (RFC 7617)', () => {
    expect(authorization('r:5000', 'Basic realm="registry"', robot)).toBe(
      `Basic ${Buffer.from('robot:s3cret').toString('base64')}`,
    );
    expect(authorization('r:5000', 'basic realm=x', robot)).toMatch(/^Basic /);
  });

  it.each<[string, string, typeof robot | undefined, ImageErrorCode]>([
    ['Basic without credentials', 'Basic realm="registry"', undefined, 'UNAUTHORIZED'],
    [
      'Bearer (the token flow)',
      'Bearer realm="https://auth.example/token",service="registry"',
      robot,
      'AUTH_UNSUPPORTED',
    ],
    ['an unknown scheme', 'Negotiate', robot, 'AUTH_UNSUPPORTED'],
  ])('refuses %s with a stable code', (_name, challenge, credentials, code) => {
    const error = (() => {
      try {
        return authorization('r:5000', challenge, credentials);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ImageError);
    expect((error as ImageError).code).toBe(code);
  });
});
