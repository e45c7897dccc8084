import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultInterception, interceptionOf, selects } from './interception.js';

const webhooks = parseAllDocuments(
  readFileSync(new URL('../../manifests/base/webhooks.yaml', import.meta.url), 'utf8'),
).map((d) => d.toJS() as { kind: string });
const validating = webhooks.find((d) => d.kind === 'ValidatingWebhookConfiguration');

describe('which namespaces the webhooks of manifests/base judge', () => {
  const labels: Record<string, Record<string, string>> = {
    critical: { 'registry-gate.io/critical': '' },
    'glass-broken': { 'registry-gate.io/break-glass': 'true' },
    trying: { 'registry-gate.io/mode': 'warn' },
    quiet: { 'registry-gate.io/mode': 'audit' },
  };
  const registered = interceptionOf(validating, (ns) => labels[ns] ?? {});

  it.each([
    ['shop', true],
    ['critical', true], // the Ignore tier: judged while the gate answers
    ['glass-broken', true],
    ['trying', true],
    ['quiet', true],
    ['kube-system', false],
    ['registry-gate-system', false],
  ])('%s: intercepted %s, as the registered configuration and the default agree', (namespace, expected) => {
    expect(registered.intercepts(namespace)).toBe(expected);
    expect(defaultInterception('registry-gate-system').intercepts(namespace)).toBe(expected);
  });

  it('names where its rules come from', () => {
    expect(registered.by).toBe('ValidatingWebhookConfiguration/registry-gate');
    expect(defaultInterception('gate').by).toMatch(/all but gate and kube-system/);
  });
});

describe('label selectors as the apiserver reads them', () => {
  it.each([
    [undefined, {}, true],
    [{}, { a: '1' }, true],
    [{ matchLabels: { a: '1' } }, { a: '1' }, true],
    [{ matchLabels: { a: '1' } }, { a: '2' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, { a: '1' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: '' }, true],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: '' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, { a: '2' }, false],
    [{ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists' }] }, { a: '1' }, false],
  ])('%j selects %j: %s', (selector, labels, expected) => {
    expect(selects(selector, labels)).toBe(expected);
  });
});
