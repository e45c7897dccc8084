import { describe, expect, it } from 'vitest';
import { coverageOf } from './coverage.js';
import { copyOfValue } from './labels.js';

const coverage = { gateNamespace: 'registry-gate-system', exemptNamespaces: ['legacy'] };

describe('coverageOf', () => {
  it.each([
    ['tenant', 'team-a', {}, { covered: true }],
    ['the gate namespace', 'registry-gate-system', {}, { covered: false, why: 'gate namespace' }],
    ['kube-system', 'kube-system', {}, { covered: false, why: 'kube-system' }],
    ['exempt by policy', 'legacy', {}, { covered: false, why: 'exempt' }],
    [
      'opted out by label',
      'team-b',
      { 'registry-gate.io/pull-secrets': 'disabled' },
      { covered: false, why: 'opted out' },
    ],
    ['other label value', 'team-c', { 'registry-gate.io/pull-secrets': 'enabled' }, { covered: true }],
    ['warn-mode namespaces are covered', 'team-d', { 'registry-gate.io/mode': 'warn' }, { covered: true }],
  ])('%s', (_name, name, labels, expected) => {
    expect(coverageOf({ name, labels, terminating: false }, coverage)).toEqual(expected);
  });
});

describe('copyOfValue: a valid label value naming the source', () => {
  const valid = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
  it.each([
    ['short', { namespace: 'registry-gate-system', name: 'mycorp-pull' }, 'registry-gate-system.mycorp-pull'],
    ['long name', { namespace: 'registry-gate-system', name: 'x'.repeat(200) }, null],
  ])('%s', (_name, ref, expected) => {
    const value = copyOfValue(ref);
    expect(value.length).toBeLessThanOrEqual(63);
    expect(value).toMatch(valid);
    if (expected !== null) expect(value).toBe(expected);
  });

  it('gives two long names that share a prefix two values', () => {
    const a = copyOfValue({ namespace: 'ns', name: `${'x'.repeat(100)}a` });
    const b = copyOfValue({ namespace: 'ns', name: `${'x'.repeat(100)}b` });
    expect(a).not.toBe(b);
  });
});
