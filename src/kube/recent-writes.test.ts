import { describe, expect, it } from 'vitest';
import type { DesiredCopy } from '../pull-secrets/reconcile.js';
import { RecentWrites, type CachedCopy } from './recent-writes.js';

const written: DesiredCopy = {
  namespace: 'team-a',
  name: 'pull',
  source: { namespace: 'gate', name: 'src' },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': 'new' },
  labels: {},
  annotations: {},
};
const cached = (rv: string, data: string): CachedCopy => ({
  resourceVersion: rv,
  snapshot: { ...written, data: { '.dockerconfigjson': data } },
});
type Case = [string, 'write' | 'delete', string | null, CachedCopy[], string[]];

describe('RecentWrites: own writes over a lagging informer, never over a newer change', () => {
  it.each<Case>([
    ['informer has not seen the update yet: the write shows', 'write', '5', [cached('5', 'old')], ['new']],
    ['informer has not seen the create yet: the write shows', 'write', null, [], ['new']],
    ['informer caught up: its view shows', 'write', '5', [cached('6', 'new')], ['new']],
    [
      'edited by hand after the write: the edit shows (and gets repaired)',
      'write',
      '5',
      [cached('7', 'edited')],
      ['edited'],
    ],
    ['delete not seen yet: the copy is hidden', 'delete', '5', [cached('5', 'old')], []],
    ['re-created by someone after the delete: it shows', 'delete', '5', [cached('8', 'other')], ['other']],
  ])('%s', (_name, kind, before, informer, expected) => {
    const recent = new RecentWrites(60_000);
    if (kind === 'write') recent.written(written, before);
    else recent.deleted(written, before);
    expect(recent.overlay(informer).map((c) => c.data['.dockerconfigjson'])).toEqual(expected);
  });

  it('forgets a write once it is older than the ttl', () => {
    const recent = new RecentWrites(-1);
    recent.written(written, null);
    expect(recent.overlay([])).toEqual([]);
  });
});
