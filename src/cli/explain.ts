import { Command } from 'commander';
import { UsageError } from './errors.js';
import {
  decideAsTemplate,
  explainDecision,
  explainImage,
  explainText,
  type ExplainRecord,
} from './explain-record.js';
import type { Io, SetExitCode } from './io.js';
import { askMirrors, checkedDecision, type MirrorFlags } from './mirror-check.js';
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
    .option('--check-mirror', 'ask the mirror whether it serves each image (HEAD manifest), and its digest')
    .option(
      '--pull-secrets-dir <dir>',
      'with --check-mirror: credentials, DIR/<secretName>/.dockerconfigjson',
    )
    .option('--mirror-ca-file <file>', 'with --check-mirror: PEM CA bundle trusted for mirrors')
    .addHelpText(
      'after',
      `
Exit codes:
  0  every image is allowed or exempt
  1  an image would be denied (or is not a valid reference, or, with --check-mirror, not in a mirror that
     verify: enforce checks)
  2  a usage error, or a policy that cannot be read or is invalid`,
    )
    .action(
      async (
        images: string[],
        opts: { policy?: string; namespace?: string; output: Output } & MirrorFlags,
      ) => {
        const policy = await policyFromFile(opts.policy);
        const inputs =
          images.length === 1 && images[0] === '-'
            ? (await io.stdin())
                .split(/\r?\n/)
                .filter((l) => l.trim() !== '')
                .map((l) => l.trim())
            : images;
        if (inputs.length === 0)
          throw new UsageError('no images given: name one or more, or - to read stdin');
        const origins = await originsFromFile(opts.policy);
        let records: ExplainRecord[];
        if (opts.checkMirror === true) {
          const decisions = inputs.map((image) => decideAsTemplate(policy, image, opts.namespace, undefined));
          const answers = await askMirrors(policy, decisions, opts);
          records = decisions.map((d) => {
            const checked = checkedDecision(policy, d, answers);
            return explainDecision(policy, checked.decision, origins, checked.check);
          });
        } else {
          records = inputs.map((image) => explainImage(policy, image, opts.namespace, origins));
        }
        if (opts.output === 'json') io.stdout(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
        else io.stdout(`${records.map((r) => explainText(r)).join('\n\n')}\n`);
        if (records.some((r) => r.decision === 'deny')) setExitCode(1);
      },
    );
}
