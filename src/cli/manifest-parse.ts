import { LineCounter, parseAllDocuments } from 'yaml';
import { flattenDocument, type InputProblem, type InputObject } from '../audit/index.js';

/**
 * Parses one input's text: a YAML multi-document stream, or JSON (`kubectl get -o json`, a `List`). JSON goes
 * through JSON.parse first because a 10,000-object dump parses about ten times faster that way; when that fails,
 * the YAML parser (JSON is YAML) reads it again to say on which line. Errors name the input and the line.
 */
export function parseManifests(
  text: string,
  name: string,
  out: InputObject[],
  problems: InputProblem[],
): void {
  const start = text.search(/\S/);
  if (start !== -1 && text[start] === '{') {
    try {
      flattenDocument(JSON.parse(text) as unknown, name, out, problems);
      return;
    } catch {
      // Not strict JSON: YAML says why, with a line number (or reads it, if it is YAML flow style).
    }
  }
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${name}:${line}:${col}`;
  };
  for (const document of Array.isArray(documents) ? documents : []) {
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        problems.push({ source: where(error.pos[0]), message: firstLine(error.message) });
      }
      continue;
    }
    const offset = document.contents?.range[0] ?? document.range[0];
    const source = `${name}:${lineCounter.linePos(offset).line}`;
    try {
      flattenDocument(document.toJS({ maxAliasCount: 100 }) as unknown, source, out, problems);
    } catch (err) {
      // toJS refuses alias bombs ("billion laughs") and the like: a bad input, not a crash.
      problems.push({ source, message: err instanceof Error ? firstLine(err.message) : String(err) });
    }
  }
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}
