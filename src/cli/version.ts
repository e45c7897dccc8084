import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { isRecord } from '../policy/index.js';
import type { Io } from './io.js';

/** The package's version, from its package.json (two levels up from src/cli/ and from dist/cli/ alike). */
export function packageVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = isRecord(manifest) ? manifest['version'] : undefined;
  return typeof version === 'string' ? version : 'unknown';
}

/** `registry-gate version`: the version alone on one line, as `--version` prints it. */
export function versionCommand(io: Io): Command {
  return new Command('version').description('print the version').action(() => {
    io.stdout(`${packageVersion()}\n`);
  });
}
