import { Command } from 'commander';
import { EXPORT_FORMATS, exportPolicy, type ExportFormat } from '../policy-import/export.js';
import type { Io } from './io.js';
import { oneOf } from './options.js';
import { policyFromFile } from './policy-file.js';

/** `registry-gate policy export`: a policy out as node-level documents (registries.conf, IDMS, ITMS). */
export function policyExportCommand(io: Io): Command {
  return new Command('export')
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
