import { Command } from 'commander';
import { UsageError } from './errors.js';
import { explainImage, explainText } from './explain-record.js';
import type { Io, SetExitCode } from './io.js';
import { parseOutput, type Output } from './options.js';
import { originsFromFile, policyFromFile } from './policy-file.js';

/** `registry-gate explain IMAGE… | -`: exit 0 when every image is allowed or exempt, 1 otherwise. */
export function explainCommand(io: Io, setExitCode: SetExitCode): Command {
  return new Command('explain')
    .description(
      'show how each image resolves, which rule decides, what it becomes and which pull secrets apply',
    )
    .argument('<images...>', 'image references, or - to read one per line from stdin')
    .option('--policy <file>', 'RegistryPolicy YAML (default: the built-in policy)')
    .option('--namespace <ns>', 'judge as in this namespace (namespace exemptions)')
    .option('-o, --output <format>', 'text or json (one JSON object per line)', parseOutput, 'text')
    .addHelpText(
      'after',
      `
Exit codes:
  0  every image is allowed or exempt
  1  an image would be denied (or is not a valid reference)
  2  a usage error, or a policy that cannot be read or is invalid`,
    )
    .action(async (images: string[], opts: { policy?: string; namespace?: string; output: Output }) => {
      const policy = await policyFromFile(opts.policy);
      const inputs =
        images.length === 1 && images[0] === '-'
          ? (await io.stdin())
              .split(/\r?\n/)
              .filter((l) => l.trim() !== '')
              .map((l) => l.trim())
          : images;
      if (inputs.length === 0) throw new UsageError('no images given: name one or more, or - to read stdin');
      const origins = await originsFromFile(opts.policy);
      const records = inputs.map((image) => explainImage(policy, image, opts.namespace, origins));
      if (opts.output === 'json') io.stdout(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      else io.stdout(`${records.map((r) => explainText(r)).join('\n\n')}\n`);
      if (records.some((r) => r.decision === 'deny')) setExitCode(1);
    });
}
