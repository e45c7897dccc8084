import { parseDocument } from 'yaml';
import type { CompiledPolicy } from './compiled.js';
import { compilePolicy } from './compile.js';
import { FieldErrors } from './fields.js';
import { readPolicy } from './read.js';
import { yamlErrorText } from './yaml-errors.js';

export type PolicyResult = { ok: true; policy: CompiledPolicy } | { ok: false; errors: string[] };

/** Validates and compiles a policy document (already parsed from YAML or JSON), with every error at once. */
export function loadPolicy(doc: unknown): PolicyResult {
  const errors = new FieldErrors();
  const spec = readPolicy(doc, errors);
  if (spec === null) return { ok: false, errors: errors.messages };
  const policy = compilePolicy(spec, errors);
  return errors.messages.length === 0 ? { ok: true, policy } : { ok: false, errors: errors.messages };
}

/** Parses policy YAML text (one document) and loads it; YAML syntax errors name their line and column. */
export function loadPolicyText(text: string): PolicyResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => `(yaml) ${yamlErrorText(e)}`) };
  }
  return loadPolicy(doc.toJS());
}
