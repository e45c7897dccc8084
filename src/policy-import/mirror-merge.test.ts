import { describe, expect, it } from 'vitest';
import { mergeMirrorSets, topologicalOrder, type MirrorSetEntry } from './mirror-merge.js';

const entry = (
  source: string,
  mirrors: string[],
  neverContactSource = false,
  name = 'a',
): MirrorSetEntry => ({
  source,
  mirrors,
  neverContactSource,
  origin: { document: `ImageDigestMirrorSet/${name}`, entry: 'spec.imageDigestMirrors[0]' },
});

describe('mergeMirrorSets (the Machine Config Operator merge, runtime-utils pkg/registries)', () => {
  it.each([
    { name: 'one set keeps its order', sets: [['m1', 'm2']], order: ['m1', 'm2'] },
    {
      name: '(B, C) and (A, B) give (A, B, C)',
      sets: [
        ['b', 'c'],
        ['a', 'b'],
      ],
      order: ['a', 'b', 'c'],
    },
    { name: 'unrelated sets interleave in name order', sets: [['z'], ['y']], order: ['y', 'z'] },
    { name: 'the source listed first is tried first', sets: [['src', 'm1']], order: ['src', 'm1'] },
    {
      name: 'the source listed in the middle keeps its place',
      sets: [['m1', 'src', 'm2']],
      order: ['m1', 'src', 'm2'],
    },
    {
      name: 'a contradiction is broken at the smallest name',
      sets: [
        ['b', 'a'],
        ['a', 'b'],
      ],
      order: ['a', 'b'],
    },
    { name: 'a set that only repeats the source is no set', sets: [['src'], ['m1']], order: ['m1'] },
  ])('$name', ({ sets, order }) => {
    const merged = mergeMirrorSets(sets.map((m, i) => entry('src', m, false, `s${i}`)));
    expect(merged).toHaveLength(1);
    expect(merged[0]?.order).toEqual(order);
  });

  it('sorts sources and keeps them apart', () => {
    const merged = mergeMirrorSets([entry('quay.io/b', ['m']), entry('quay.io/a', ['n'])]);
    expect(merged.map((m) => [m.source, m.order])).toEqual([
      ['quay.io/a', ['n']],
      ['quay.io/b', ['m']],
    ]);
  });

  it('NeverContactSource on any entry blocks the source for all; an ignored entry does not count', () => {
    expect(mergeMirrorSets([entry('s', ['m1']), entry('s', ['m2'], true)])[0]?.neverContactSource).toBe(true);
    expect(mergeMirrorSets([entry('s', ['m1']), entry('s', ['s'], true)])[0]?.neverContactSource).toBe(false);
  });

  it('drops a source whose every entry only repeats it', () => {
    expect(mergeMirrorSets([entry('s', ['s'])])).toEqual([]);
  });
});

describe('topologicalOrder', () => {
  it('gives every node once, even around a loop', () => {
    const order = topologicalOrder([
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'a'],
      ['c', 'd'],
    ]);
    expect([...order].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(order[0]).toBe('a');
  });
});
