import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadPolicyText } from '../policy/index.js';
import { importOpenShift } from '../policy-import/openshift.js';
import { policyDocument, policyText } from '../policy-import/policy-document.js';
import { importRegistriesConf } from '../policy-import/registries-conf.js';
import type { ImportResult } from '../policy-import/rules.js';
import { UsageError } from './policy-file.js';

export const IMPORT_SOURCES = ['openshift', 'registries-conf'] as const;
export type ImportSource = (typeof IMPORT_SOURCES)[number];

export interface ImportOutput {
  /** The RegistryPolicy YAML, with `# origin:` comments and `# note:` lines. */
  readonly text: string;
  /** Errors of the resulting policy (for example allowed and blocked both set): non-empty means exit 1. */
  readonly policyErrors: readonly string[];
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** registries.conf and shortnames.conf are TOML; the OpenShift objects are YAML or JSON. */
export function guessSource(files: readonly string[]): ImportSource {
  return files.every((f) => /\.(conf|toml)$/.test(f)) ? 'registries-conf' : 'openshift';
}

/**
 * `registry-gate policy import`: reads the files, maps them onto a RegistryPolicy and validates the result.
 * Documents of the wrong shape are input errors (exit 2); a policy that maps but does not validate is printed
 * with its errors (exit 1), so that the user sees both what was read and what to fix.
 */
export async function importPolicy(
  files: readonly string[],
  from: ImportSource,
  name: string,
): Promise<ImportOutput> {
  const texts = await Promise.all(
    files.map(async (file) => ({ file: basename(file), text: await readText(file) })),
  );
  let result: ImportResult;
  if (from === 'registries-conf') {
    result = importRegistriesConf(texts);
  } else {
    const documents = texts.flatMap(({ file, text }) => {
      const docs = parseAllDocuments(text, { prettyErrors: true });
      if (!Array.isArray(docs)) return [];
      for (const d of docs) {
        if (d.errors.length > 0)
          throw new UsageError(`${file}: YAML: ${d.errors[0]?.message.split('\n')[0] ?? ''}`);
      }
      return docs.map((d) => ({ file, doc: d.toJS() as unknown })).filter((d) => d.doc !== null);
    });
    result = importOpenShift(documents);
  }
  if (!result.ok) throw new UsageError(`cannot import:\n${result.errors.map((e) => `  ${e}`).join('\n')}`);
  const text = policyText(policyDocument(result.rules, { name }));
  const loaded = loadPolicyText(text);
  return { text, policyErrors: loaded.ok ? [] : loaded.errors };
}
