import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InputProblem, InputObject } from '../audit/index.js';
import { parseManifests } from './manifest-parse.js';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface ReadInputs {
  readonly objects: InputObject[];
  readonly problems: InputProblem[];
}

/**
 * Reads what `audit` was given: files (any name), directories (recursively, the `*.yaml`, `*.yml` and `*.json`
 * files in name order, hidden directories such as `.git` skipped) and `-` for stdin. What cannot be read or
 * parsed becomes a problem naming the file and line; the rest is still audited.
 */
export async function readInputs(
  paths: readonly string[],
  stdin: () => Promise<string>,
): Promise<ReadInputs> {
  const objects: InputObject[] = [];
  const problems: InputProblem[] = [];
  const readOne = async (path: string): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      problems.push({ source: path, message: `cannot read: ${reason(err)}` });
      return;
    }
    parseManifests(text, path, objects, problems);
  };
  for (const path of paths) {
    if (path === '-') {
      parseManifests(await stdin(), '(stdin)', objects, problems);
      continue;
    }
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (err) {
      problems.push({ source: path, message: `cannot read: ${reason(err)}` });
      continue;
    }
    if (!isDirectory) await readOne(path);
    else for (const file of await manifestFiles(path)) await readOne(file);
  }
  return { objects, problems };
}

async function manifestFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.')) files.push(...(await manifestFiles(path)));
    } else if (MANIFEST_FILE.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}

function reason(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') {
    return err.code === 'ENOENT' ? 'no such file or directory' : `${err.code} ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
