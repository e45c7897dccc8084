import { describe, expect, it } from 'vitest';
import { loadPolicyText } from '../policy/index.js';
import { desiredCopy, planCopies, type ReconcileInput } from './reconcile.js';
import type { NamespaceSnapshot, SecretSnapshot } from './types.js';
import { propagations } from './wanted.js';

const GATE = 'registry-gate-system';
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const config = (password: string): string =>
  b64(JSON.stringify({ auths: { 'registry.mycorp.com': { auth: b64(`robot:${password}`) } } }));

const source = (password = 'one', over: Partial<SecretSnapshot> = {}): SecretSnapshot => ({
  namespace: GATE,
  name: 'mycorp-pull',
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': config(password) },
  labels: { team: 'platform' },
  annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  ...over,
});
const ns = (name: string, labels: Record<string, string> = {}, terminating = false): NamespaceSnapshot => ({
  name,
  labels,
  terminating,
});
/** A copy exactly as the reconciler would write it from `src`. */
const copyIn = (namespace: string, src = source(), name = 'mycorp-pull'): SecretSnapshot => {
  const d = desiredCopy({ namespace, name }, src);
  return { ...d, data: { ...d.data }, labels: { ...d.labels }, annotations: { ...d.annotations } };
};

const POLICY_WITH_FROM = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
spec:
  pullSecrets:
    - {registry: registry.mycorp.com, secretName: mycorp-pull, from: {namespace: ${GATE}, name: mycorp-pull}}
    - {registry: other.io, secretName: other-pull}
  exemptions: {namespaces: [legacy]}
`;
const policy = loadPolicyText(POLICY_WITH_FROM);
if (!policy.ok) throw new Error(policy.errors.join('\n'));
const spec = policy.policy.spec;

function input(over: Partial<ReconcileInput>): ReconcileInput {
  return {
    propagations: propagations(spec),
    sources: new Map([[`${GATE}/mycorp-pull`, source()]]),
    namespaces: [ns(GATE), ns('kube-system'), ns('default'), ns('team-a')],
    copies: [],
    coverage: { gateNamespace: GATE, exemptNamespaces: spec.exemptions.namespaces },
    ...over,
  };
}

/** The plan as short strings: `create team-a/mycorp-pull`, `delete x/y (why)`. */
function summary(i: ReconcileInput): string[] {
  return planCopies(i).actions.map((a) =>
    a.kind === 'delete'
      ? `delete ${a.ref.namespace}/${a.ref.name} (${a.why})`
      : a.kind === 'update'
        ? `update ${a.copy.namespace}/${a.copy.name} (${a.changed.join(', ')})`
        : `create ${a.copy.namespace}/${a.copy.name}`,
  );
}

describe('propagations', () => {
  it('lists only entries with from, one per Secret name', () => {
    expect(propagations(spec)).toEqual([
      {
        secretName: 'mycorp-pull',
        from: { namespace: GATE, name: 'mycorp-pull' },
        registries: ['registry.mycorp.com'],
      },
    ]);
  });
});

describe('planCopies', () => {
  it.each<[string, Partial<ReconcileInput>, string[]]>([
    [
      'fresh cluster: one copy per covered namespace',
      {},
      ['create default/mycorp-pull', 'create team-a/mycorp-pull'],
    ],
    ['all in place: nothing to do', { copies: [copyIn('default'), copyIn('team-a')] }, []],
    [
      'a new namespace gets its copy',
      {
        namespaces: [ns('default'), ns('team-a'), ns('team-b')],
        copies: [copyIn('default'), copyIn('team-a')],
      },
      ['create team-b/mycorp-pull'],
    ],
    [
      'source rotated: every copy follows',
      {
        sources: new Map([[`${GATE}/mycorp-pull`, source('two')]]),
        copies: [copyIn('default'), copyIn('team-a')],
      },
      ['update default/mycorp-pull (data)', 'update team-a/mycorp-pull (data)'],
    ],
    [
      'entry removed: copies deleted',
      { propagations: [], copies: [copyIn('default'), copyIn('team-a')] },
      [
        'delete default/mycorp-pull (no pullSecrets entry names it any more)',
        'delete team-a/mycorp-pull (no pullSecrets entry names it any more)',
      ],
    ],
    [
      'namespace opted out by label: its copy goes, no new one',
      {
        namespaces: [ns('default'), ns('team-a', { 'registry-gate.io/pull-secrets': 'disabled' })],
        copies: [copyIn('default'), copyIn('team-a')],
      },
      ['delete team-a/mycorp-pull (namespace not covered (opted out))'],
    ],
    ['policy-exempt namespace gets none', { namespaces: [ns('legacy')] }, []],
    ['gate namespace and kube-system get none', { namespaces: [ns(GATE), ns('kube-system')] }, []],
    [
      'source missing: nothing created, existing copies kept',
      { sources: new Map(), copies: [copyIn('default')] },
      [],
    ],
    [
      'source of the wrong type: nothing written',
      { sources: new Map([[`${GATE}/mycorp-pull`, source('one', { type: 'Opaque' })]]) },
      [],
    ],
    [
      'copy edited by hand: repaired',
      {
        copies: [{ ...copyIn('default'), data: { '.dockerconfigjson': config('edited') } }, copyIn('team-a')],
      },
      ['update default/mycorp-pull (data)'],
    ],
    [
      'labels and keys added by others are left alone',
      {
        copies: [
          {
            ...copyIn('default'),
            labels: { ...copyIn('default').labels, extra: 'x' },
            data: { ...copyIn('default').data, other: 'eA==' },
          },
          copyIn('team-a'),
        ],
      },
      [],
    ],
    [
      'copy lost its source annotation: restored',
      { copies: [{ ...copyIn('default'), annotations: {} }, copyIn('team-a')] },
      ['update default/mycorp-pull (annotation registry-gate.io/source)'],
    ],
    [
      'copy of the wrong type: deleted, to be created next pass',
      { copies: [{ ...copyIn('default'), type: 'Opaque' }, copyIn('team-a')] },
      ['delete default/mycorp-pull (type Opaque cannot be changed in place)'],
    ],
    [
      'terminating namespace: neither created nor deleted',
      { namespaces: [ns('default', {}, true), ns('gone', {}, true)], copies: [copyIn('gone')] },
      [],
    ],
    [
      'copy in a namespace the informer no longer lists: deleted',
      { namespaces: [], copies: [copyIn('vanished')] },
      ['delete vanished/mycorp-pull (namespace unknown)'],
    ],
    [
      'copy renamed in the policy: old deleted, new created',
      {
        propagations: [
          {
            secretName: 'renamed',
            from: { namespace: GATE, name: 'mycorp-pull' },
            registries: ['registry.mycorp.com'],
          },
        ],
        namespaces: [ns('default')],
        copies: [copyIn('default')],
      },
      ['create default/renamed', 'delete default/mycorp-pull (no pullSecrets entry names it any more)'],
    ],
    [
      'source moved: copies rewritten from the new source',
      {
        propagations: [
          {
            secretName: 'mycorp-pull',
            from: { namespace: GATE, name: 'new-src' },
            registries: ['registry.mycorp.com'],
          },
        ],
        sources: new Map([[`${GATE}/new-src`, source('new', { name: 'new-src' })]]),
        namespaces: [ns('default')],
        copies: [copyIn('default')],
      },
      [
        'update default/mycorp-pull (data, label registry-gate.io/copy-of, annotation registry-gate.io/source)',
      ],
    ],
    [
      'source outside the gate namespace: its own namespace keeps the source untouched',
      {
        propagations: [
          {
            secretName: 'mycorp-pull',
            from: { namespace: 'creds', name: 'mycorp-pull' },
            registries: ['registry.mycorp.com'],
          },
        ],
        sources: new Map([['creds/mycorp-pull', source('one', { namespace: 'creds' })]]),
        namespaces: [ns('creds'), ns('default')],
        copies: [{ ...source('one', { namespace: 'creds' }), labels: copyIn('creds').labels }],
      },
      ['create default/mycorp-pull'],
    ],
  ])('%s', (_name, over, expected) => {
    expect(summary(input(over))).toEqual(expected);
  });

  it('copies hold only the docker config, the managed-by and source labels and the source annotation', () => {
    const [action] = planCopies(input({ namespaces: [ns('default')] })).actions;
    expect(action?.kind === 'create' && action.copy).toEqual({
      namespace: 'default',
      name: 'mycorp-pull',
      source: { namespace: GATE, name: 'mycorp-pull' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': config('one') },
      labels: {
        'app.kubernetes.io/managed-by': 'registry-gate',
        'registry-gate.io/copy-of': `${GATE}.mycorp-pull`,
      },
      annotations: { 'registry-gate.io/source': `${GATE}/mycorp-pull` },
    });
  });

  it.each<[string, Partial<ReconcileInput>, string[]]>([
    ['none yet', {}, ['default/mycorp-pull', 'team-a/mycorp-pull']],
    ['one in place', { copies: [copyIn('default')] }, ['team-a/mycorp-pull']],
    ['source missing: still missing', { sources: new Map() }, ['default/mycorp-pull', 'team-a/mycorp-pull']],
    ['no entry with from', { propagations: [] }, []],
  ])('missing copies (for admission warnings): %s', (_name, over, expected) => {
    expect([...planCopies(input(over)).missing].sort()).toEqual(expected);
  });

  it('applying the plan yields an empty plan (level-based, idempotent)', () => {
    const start = input({
      sources: new Map([[`${GATE}/mycorp-pull`, source('two')]]),
      namespaces: [
        ns('default'),
        ns('team-a'),
        ns('team-b', { 'registry-gate.io/pull-secrets': 'disabled' }),
      ],
      copies: [copyIn('default'), copyIn('team-b')],
    });
    const copies = new Map(start.copies.map((c) => [`${c.namespace}/${c.name}`, c]));
    for (const a of planCopies(start).actions) {
      if (a.kind === 'delete') copies.delete(`${a.ref.namespace}/${a.ref.name}`);
      else copies.set(`${a.copy.namespace}/${a.copy.name}`, { ...a.copy });
    }
    expect(summary({ ...start, copies: [...copies.values()] })).toEqual([]);
  });
});
