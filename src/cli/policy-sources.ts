import { Command, InvalidArgumentError } from 'commander';
import { readFile } from 'node:fs/promises';
import { EXPORT_FORMATS, exportPolicy, type ExportFormat } from '../policy-import/export.js';
import { readPolicyOrigins } from '../policy-import/policy-origins.js';
import { IMPORT_SOURCES, guessSource, importPolicy, type ImportSource } from './policy-import.js';
import { policyFromFile } from './policy-file.js';
import type { Io } from './program.js';

function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    const found = choices.find((c) => c === value);
    if (found === undefined) throw new InvalidArgumentError(choices.join(' or '));
    return found;
  };
}

/** The `# origin:` comments of `--policy FILE`, for explain; none for the built-in policy or an unreadable file. */
export async function originsFromFile(
  path: string | undefined,
): Promise<ReadonlyMap<string, readonly string[]>> {
  if (path === undefined) return new Map();
  try {
    return readPolicyOrigins(await readFile(path, 'utf8'));
  } catch {
    return new Map(); // policyFromFile has already read it; a race with a deletion only loses the comments
  }
}

/** `policy import` and `policy export`: node-level documents in, node-level documents out. */
export function registerPolicySourceCommands(
  policy: Command,
  io: Io,
  setExitCode: (code: number) => void,
): void {
  policy
    .command('import')
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

  policy
    .command('export')
    .description(
      'print the node-side form of a policy: registries.conf, an ImageDigestMirrorSet or an ImageTagMirrorSet',
    )
    .requiredOption('--format <format>', EXPORT_FORMATS.join(', '), oneOf<ExportFormat>(EXPORT_FORMATS))
    .option('--policy <file>', 'RegistryPolicy YAML (default: the built-in policy)')
    .action(async (opts: { format: ExportFormat; policy?: string }) => {
      const compiled = await policyFromFile(opts.policy);
      io.stdout(exportPolicy(compiled.spec, opts.format).text);
    });
}
