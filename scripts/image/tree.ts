import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ImageError } from './errors.js';
import type { LayerEntry } from './tar.js';

/**
 * The entries of the directory tree `dir`, placed under `at` in the image (`app/node_modules`). Modes are reduced
 * to 0755 (directories, executables) and 0644 (other files), so the umask of the machine that built the tree
 * does not reach the image; symlinks are kept as they are. Anything else (sockets, devices) is an error.
 */
export async function treeEntries(dir: string, at: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [{ kind: 'directory', path: at, mode: 0o755 }];
  const walk = async (from: string, to: string): Promise<void> => {
    for (const name of await readdir(from)) {
      const source = join(from, name);
      const path = posix.join(to, name);
      const stats = await lstat(source);
      if (stats.isDirectory()) {
        entries.push({ kind: 'directory', path, mode: 0o755 });
        await walk(source, path);
      } else if (stats.isFile()) {
        entries.push({
          kind: 'file',
          path,
          mode: stats.mode & 0o111 ? 0o755 : 0o644,
          content: { file: source },
        });
      } else if (stats.isSymbolicLink()) {
        entries.push({ kind: 'symlink', path, target: await readlink(source) });
      } else {
        throw new ImageError('BUILD', `${source} is neither a file, a directory nor a symlink`);
      }
    }
  };
  await walk(dir, at);
  return entries;
}
