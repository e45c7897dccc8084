import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadPolicyText, yamlErrorText } from '../policy/index.js';
import { importOpenShift } from '../policy-import/openshift.js';
import { policyDocument, policyText } from '../policy-import/policy-document.js';
import { importRegistriesConf } from '../policy-import/registries-conf.js';
import type { ImportResult } from '../policy-import/rules.js';
import { UsageError, reasonOf } from './errors.js';
import type { Io, SetExitCode } from './io.js';
import { oneOf } from './options.js';

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
    throw new UsageError(`cannot read ${file}: ${reasonOf(err)}`, 'FILE_UNREADABLE', { cause: err });
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
          throw new UsageError(
            `${file}: YAML ${d.errors[0] ? yamlErrorText(d.errors[0]) : ''}`,
            'IMPORT_INVALID',
          );
      }
      return docs.map((d) => ({ file, doc: d.toJS() as unknown })).filter((d) => d.doc !== null);
    });
    result = importOpenShift(documents);
  }
  if (!result.ok)
    throw new UsageError(
      `cannot import:\n${result.errors.map((e) => `  ${e}`).join('\n')}`,
      'IMPORT_INVALID',
    );
  const text = policyText(policyDocument(result.rules, { name }));
  const loaded = loadPolicyText(text);
  return { text, policyErrors: loaded.ok ? [] : loaded.errors };
}

/** `registry-gate policy import FILE…`: node-level documents in, a RegistryPolicy out. */
export function policyImportCommand(io: Io, setExitCode: SetExitCode): Command {
  return new Command('import')
    .description(
      'print a RegistryPolicy made from OpenShift image config (Image, ICSP, IDMS, ITMS) or registries.conf/shortnames.conf',
    )
    .argument('<files...>')
    .option(
      '--from <source>',
      'openshift or registries-conf (default: registries-conf for *.conf/*.toml files)',
      oneOf(IMPORT_SOURCES),
    )
    .option('--name <name>', 'metadata.name of the policy', 'imported')
    .action(async (files: string[], opts: { from?: ImportSource; name: string }) => {
      const out = await importPolicy(files, opts.from ?? guessSource(files), opts.name);
      io.stdout(out.text);
      if (out.policyErrors.length > 0) {
        io.stderr(
          `registry-gate: the imported policy is not valid:\n${out.policyErrors.map((e) => `  ${e}\n`).join('')}`,
        );
        setExitCode(1);
      }
    });
}
