import { describe, expect, it } from 'vitest';
import { flattenDocument, type InputProblem, type InputObject } from './objects.js';

describe('flattenDocument on input nested without end', () => {
  it('reports a List nested past any real one as a problem, without recursing through it', () => {
    let document: unknown = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } };
    for (let i = 0; i < 20_000; i++) document = { apiVersion: 'v1', kind: 'List', items: [document] };
    const out: InputObject[] = [];
    const problems: InputProblem[] = [];
    flattenDocument(document, 'deep.json', out, problems);
    expect(out).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/nested more than \d+ deep/);
  });

  it('still expands Lists of Lists as kubectl writes them', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } };
    const out: InputObject[] = [];
    flattenDocument({ kind: 'List', items: [{ kind: 'List', items: [pod] }] }, 'x.json', out, []);
    expect(out.map((o) => o.object)).toEqual([pod]);
  });
});
