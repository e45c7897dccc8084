import { execFile, type ExecFileOptions } from 'node:child_process';
import { ImageError, type ImageErrorCode } from './errors.js';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The code of the error when the tool runs but fails (a missing tool is always `PREREQUISITE`). */
  readonly failure?: ImageErrorCode;
  /** What a person should do when it fails, appended to the message. */
  readonly hint?: string;
}

/** Output beyond this is a tool gone wrong, not output we need: npm ci and tsc print far less. */
const MAX_BUFFER = 64 * 1024 * 1024;

/**
 * Runs a tool to completion and returns its stdout. A failure becomes one `ImageError` line: the command, the last
 * line the tool printed on stderr (tools put the reason last), and the hint.
 */
export async function runTool(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const execOptions: ExecFileOptions & { encoding: 'utf8' } = {
    encoding: 'utf8',
    maxBuffer: MAX_BUFFER,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
  };
  return await new Promise((resolve, reject) => {
    execFile(file, [...args], execOptions, (error, stdout, stderr) => {
      if (error === null) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return reject(new ImageError('PREREQUISITE', `'${file}' not found in PATH`, { cause: error }));
      const last = lastLine(stderr) ?? lastLine(stdout) ?? error.message;
      const hint = options.hint === undefined ? '' : ` (${options.hint})`;
      reject(
        new ImageError(options.failure ?? 'BUILD', `${file} ${args[0] ?? ''} failed: ${last}${hint}`, {
          cause: error,
        }),
      );
    });
  });
}

function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .at(-1);
}
