import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import tar, { type Header, type Pack } from 'tar-stream';
import { ImageError } from './errors.js';

/** Where a regular file's bytes come from: a file on disk (read when written) or bytes in memory. */
export type Content = { readonly file: string } | { readonly data: Buffer };

/** One entry of a layer. Paths are relative to the image's root (`usr/local/bin/node`), without `./` or `/`. */
export type LayerEntry =
  | { readonly kind: 'directory'; readonly path: string; readonly mode: number }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly content: Content }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'hardlink'; readonly path: string; readonly target: string };

export interface WrittenLayer {
  /** The uncompressed tar, as the image config's `rootfs.diff_ids` names it. */
  readonly file: string;
  readonly diffId: string;
  readonly size: number;
}

/** Mode of the directories a layer creates on its own (parents that no entry declares). */
const PARENT_MODE = 0o755;

/**
 * Writes `entries` as a reproducible tar: the same entries give the same bytes on any machine and at any time.
 * Entries are sorted by path, parents come before children (missing parents are added, 0755), every entry is
 * owned by 0:0 with no user or group name and carries `mtime`; only the mode and the content come from the input.
 * Two entries for one path are an error unless both are the same directory (packages share `usr/`, `usr/lib/`, …).
 */
export async function writeLayer(
  entries: readonly LayerEntry[],
  file: string,
  mtime: Date,
): Promise<WrittenLayer> {
  const sorted = normalize(entries);
  const pack = tar.pack();
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  let size = 0;
  const consume = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  })();
  const produce = (async () => {
    for (const entry of sorted) await addEntry(pack, entry, mtime);
    pack.finalize();
  })();
  try {
    await Promise.all([produce, consume]);
  } catch (error) {
    pack.destroy();
    out.destroy();
    throw error;
  }
  return { file, diffId: `sha256:${hash.digest('hex')}`, size };
}

/** Sorted, deduplicated, with every parent directory present. */
export function normalize(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  const add = (entry: LayerEntry): void => {
    const path = cleanPath(entry.path);
    if (path === '') return; // the root directory belongs to the runtime, not to a layer
    const clean = { ...entry, path };
    const existing = byPath.get(path);
    if (existing === undefined) {
      byPath.set(path, clean);
      return;
    }
    if (existing.kind === 'directory' && clean.kind === 'directory' && existing.mode === clean.mode) return;
    throw new ImageError('BUILD', `two different entries for /${path} in one layer`);
  };
  for (const entry of entries) add(entry);
  for (const path of [...byPath.keys()]) {
    for (let parent = posix.dirname(path); parent !== '.'; parent = posix.dirname(parent)) {
      if (!byPath.has(parent)) byPath.set(parent, { kind: 'directory', path: parent, mode: PARENT_MODE });
    }
  }
  // Plain code-unit order: a parent is a prefix of its children, so it sorts first.
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `./usr/lib/` → `usr/lib`. A `..` component is refused rather than resolved: no input of ours has one. */
function cleanPath(path: string): string {
  if (path.split('/').includes('..')) throw new ImageError('BUILD', `path with "..": ${path}`);
  return posix.normalize(`/${path}`).slice(1).replace(/\/$/, '');
}

async function addEntry(pack: Pack, entry: LayerEntry, mtime: Date): Promise<void> {
  const common = { uid: 0, gid: 0, uname: '', gname: '', mtime };
  switch (entry.kind) {
    case 'directory':
      return await write(pack, { ...common, name: `${entry.path}/`, type: 'directory', mode: entry.mode });
    case 'symlink':
      return await write(pack, {
        ...common,
        name: entry.path,
        type: 'symlink',
        mode: 0o777,
        linkname: entry.target,
      });
    case 'hardlink':
      return await write(pack, {
        ...common,
        name: entry.path,
        type: 'link',
        mode: 0o644,
        linkname: cleanPath(entry.target),
      });
    case 'file': {
      const data = 'data' in entry.content ? entry.content.data : await readFile(entry.content.file);
      return await write(
        pack,
        { ...common, name: entry.path, type: 'file', mode: entry.mode, size: data.length },
        data,
      );
    }
  }
}

/** Adds one entry and waits until the pack has taken it (the pack holds back while the file write is behind). */
async function write(
  pack: Pack,
  header: Partial<Header> & Pick<Header, 'name'>,
  data?: Buffer,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error | null): void => (error ? reject(error) : resolve());
    if (data === undefined) pack.entry(header, done);
    else pack.entry(header, data, done);
  });
}
