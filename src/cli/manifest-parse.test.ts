import { describe, expect, it } from 'vitest';
import type { InputProblem, InputObject } from '../audit/index.js';
import { parseManifests } from './manifest-parse.js';

function parse(text: string): { objects: InputObject[]; problems: InputProblem[] } {
  const objects: InputObject[] = [];
  const problems: InputProblem[] = [];
  parseManifests(text, 'in.yaml', objects, problems);
  return { objects, problems };
}

describe('parseManifests', () => {
  it('reads YAML multi-document streams, naming each object by file and line, skipping empty documents', () => {
    const { objects, problems } = parse(
      '---\nkind: Pod\nmetadata: {name: a}\n---\n---\n# c\nkind: Pod\nmetadata: {name: b}\n',
    );
    expect(problems).toEqual([]);
    expect(objects.map((o) => o.source)).toEqual(['in.yaml:2', 'in.yaml:7']);
  });

  it('reads JSON, and a JSON syntax error is reported with its line by the YAML parser', () => {
    expect(parse('{"kind": "Pod", "metadata": {"name": "a"}}').objects).toHaveLength(1);
    const { problems } = parse('{\n  "kind": "Pod",\n  "metadata": {"name": "a"\n}\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.source).toMatch(/^in\.yaml:\d+:\d+$/);
  });

  it.each([
    ['bad indentation', 'kind: Pod\nspec:\n  containers:\n    - name: a\n   image: x\n', /^in\.yaml:5:\d+$/],
    ['an unclosed flow mapping', 'kind: Pod\nmetadata: {name: a\n', /^in\.yaml:\d+:\d+$/],
    ['a duplicate key', 'kind: Pod\nkind: Deployment\n', /^in\.yaml:2:1$/],
  ])('names the file and line of %s', (_name, text, source) => {
    const { objects, problems } = parse(text);
    expect(objects).toEqual([]);
    expect(problems[0]?.source).toMatch(source);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10)
          .fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`)
          .join(', ')}]`,
      );
    const { problems } = parse(bomb.join('\n'));
    expect(problems).toHaveLength(1);
  });
});
