import { describe, expect, it } from 'vitest';
import { ImageError } from '../errors.js';
import { formatTarget, parsePushTarget } from './target.js';

describe('parsePushTarget', () => {
  it.each([
    [
      '127.0.0.1:5000/registry-gate/registry-gate:0.1.0',
      '127.0.0.1:5000',
      '127.0.0.1:5000',
      'registry-gate/registry-gate',
      '0.1.0',
    ],
    ['localhost:5000/gate', 'localhost:5000', 'localhost:5000', 'gate', 'latest'],
    [
      'registry.corp.example/team/gate:v1',
      'registry.corp.example',
      'registry.corp.example',
      'team/gate',
      'v1',
    ],
    ['gate:1', 'docker.io', 'registry-1.docker.io', 'library/gate', '1'],
  ])('%s', (ref, registry, apiHost, repository, tag) => {
    const target = parsePushTarget(ref);
    expect(target).toEqual({ registry, apiHost, repository, tag });
    expect(formatTarget(target)).toBe(`${registry}/${repository}:${tag}`);
  });

  it.each([
    '',
    'registry.example/Team/gate',
    '127.0.0.1:5000/a:bad tag',
    `127.0.0.1:5000/a@sha256:${'0'.repeat(64)}`,
  ])('refuses %j as bad usage', (ref) => {
    expect(() => parsePushTarget(ref)).toThrow(ImageError);
    try {
      parsePushTarget(ref);
    } catch (error) {
      expect((error as ImageError).code).toBe('USAGE');
    }
  });
});
