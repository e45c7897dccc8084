import type { YAMLError } from 'yaml';

/**
 * One line for a YAML syntax error: `line 4, column 9: Nested mappings are not allowed in compact mappings`.
 * The yaml library's pretty message ends its first line with `at line 4, column 9:` and puts the source excerpt
 * on the next lines; a message cut at its first line would end on that dangling colon.
 */
export function yamlErrorText(error: Pick<YAMLError, 'message' | 'linePos'>): string {
  const what = (error.message.split('\n')[0] ?? '')
    .replace(/ at line \d+, column \d+:?\s*$/, '')
    .replace(/:\s*$/, '');
  const at = error.linePos?.[0];
  return at === undefined ? what : `line ${at.line}, column ${at.col}: ${what}`;
}
