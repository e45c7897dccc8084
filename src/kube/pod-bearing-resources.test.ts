import { describe, expect, it } from 'vitest';
import { POD_BEARING_KINDS } from '../engine/index.js';
import { collectionPath, POD_BEARING_RESOURCES } from './pod-bearing-resources.js';

describe('POD_BEARING_RESOURCES', () => {
  it('lists exactly the kinds of the webhook table, so audit --cluster misses none', () => {
    expect(POD_BEARING_RESOURCES.map((r) => `${r.group}/${r.kind}`).sort()).toEqual(
      [...POD_BEARING_KINDS].sort(),
    );
  });

  it.each([
    ['pods, all namespaces', 0, undefined, '/api/v1/pods'],
    ['cronjobs of one namespace', 8, 'shop', '/apis/batch/v1/namespaces/shop/cronjobs'],
    ['deployments', 3, undefined, '/apis/apps/v1/deployments'],
  ] as const)('%s', (_name, index, namespace, path) => {
    const resource = POD_BEARING_RESOURCES[index];
    if (resource === undefined) throw new Error('no such row');
    expect(collectionPath(resource, namespace)).toBe(path);
  });
});
