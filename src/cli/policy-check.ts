import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { loadPolicyText, unrestrictedReason } from '../policy/index.js';
import { UsageError, reasonOf } from './errors.js';
import type { Io, SetExitCode } from './io.js';

/** `registry-gate policy check FILE`: every error with its field path, exit 1 when there is one. */
export function policyCheckCommand(io: Io, setExitCode: SetExitCode): Command {
  return new Command('check')
    .description('validate a policy, printing every error with its field path')
    .argument('<file>')
    .action(async (file: string) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${reasonOf(err)}`, 'FILE_UNREADABLE', { cause: err });
      }
      const loaded = loadPolicyText(text);
      if (loaded.ok) {
        const s = loaded.policy.spec;
        const list = s.registrySources.allowedRegistries
          ? `${s.registrySources.allowedRegistries.length} allowed`
          : `${s.registrySources.blockedRegistries?.length ?? 0} blocked`;
        io.stdout(
          `${file}: valid (mode ${s.mode}, ${s.mirrors.length} mirrors, ${list} registries, ${s.pullSecrets.length} pull secrets)\n`,
        );
        const unrestricted = unrestrictedReason(s);
        if (unrestricted !== null) io.stderr(`${file}: warning: ${unrestricted}\n`);
      } else {
        io.stdout(loaded.errors.map((e) => `${file}: ${e}\n`).join(''));
        setExitCode(1);
      }
    });
}
