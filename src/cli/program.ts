import { Command } from 'commander';
import { KubeApiError } from '../kube/api-error.js';
import { StartupError } from '../runtime/webhook.js';
import { auditCommand } from './audit.js';
import { certsCommand } from './certs.js';
import { UsageError } from './errors.js';
import { explainCommand } from './explain.js';
import type { Io } from './io.js';
import { policyCheckCommand } from './policy-check.js';
import { policyExportCommand } from './policy-export.js';
import { policyImportCommand } from './policy-import.js';
import { serveCommand } from './serve.js';
import { packageVersion, versionCommand } from './version.js';

export type { Io, ProcessContext } from './io.js';

/** Exit codes of every command (docs/auditing.md lists them too). */
export const EXIT_CODES_HELP = `
Exit codes:
  0   success: every image allowed or exempt (explain, audit), the policy valid (policy check)
  1   something would be denied (explain, audit), the policy is invalid (policy check, policy import),
      or the API server refused a change (certs)
  2   a usage or input error: a wrong flag, an unreadable file, an invalid policy at start (serve), a
      kubeconfig or API server problem (audit); one line on stderr says what is wrong and how to fix it
  70  an internal error: a bug (the stack trace is printed; please report it)
`;

/**
 * The command line: one file per command, wired here. Returns the exit code; user mistakes (UsageError,
 * StartupError, KubeApiError, each with a stable `code`) become one message on stderr and exit 2, anything else
 * is a bug and is thrown to main.ts.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let exitCode = 0;
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('registry-gate')
    .description(
      'Keeps every pod on the registries you trust: rewrites to your mirror, injects pull secrets, denies the rest.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // commander's own usage errors, on one line in our words: what is wrong, and where to look.
      outputError: (text, write) =>
        write(
          `registry-gate: ${text
            .trim()
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')} (see --help)\n`,
        ),
    })
    .addHelpText('after', EXIT_CODES_HELP);

  const policy = new Command('policy')
    .description('work with RegistryPolicy files')
    .addCommand(policyCheckCommand(io, setExitCode))
    .addCommand(policyImportCommand(io, setExitCode))
    .addCommand(policyExportCommand(io));
  for (const command of [
    serveCommand(io),
    explainCommand(io, setExitCode),
    auditCommand(io, setExitCode),
    certsCommand(io, setExitCode),
    policy,
    versionCommand(io),
  ]) {
    program.addCommand(command);
  }
  inheritSettings(program);

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    const message = userErrorMessage(err);
    if (message !== null) {
      io.stderr(message);
      return 2;
    }
    if (isCommanderExit(err)) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return exitCode;
}

/** addCommand does not pass on exitOverride and the output settings (as .command() would): pass them down. */
function inheritSettings(parent: Command): void {
  for (const child of parent.commands) {
    child.copyInheritedSettings(parent);
    inheritSettings(child);
  }
}

/** The text for a mistake of the user's, or null for anything else. */
function userErrorMessage(err: unknown): string | null {
  if (err instanceof UsageError || err instanceof KubeApiError) return `registry-gate: ${err.message}\n`;
  if (err instanceof StartupError) {
    return `registry-gate: ${err.message}\n${err.details.map((d) => `  ${d}\n`).join('')}`;
  }
  return null;
}

/** commander's exitOverride throws for --help, --version and its own usage errors. */
function isCommanderExit(err: unknown): err is { exitCode: number } {
  if (typeof err !== 'object' || err === null) return false;
  const { code, exitCode } = err as { code?: unknown; exitCode?: unknown };
  return typeof code === 'string' && code.startsWith('commander.') && typeof exitCode === 'number';
}
