import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createGzip } from 'node:zlib';
import type { WrittenLayer } from './tar.js';

export interface Blob {
  readonly digest: string;
  readonly size: number;
  readonly file: string;
}

/** zlib's default: compressing the 150 MB Node layer at 9 takes twice as long for about 2% less. */
const LEVEL = constants.Z_DEFAULT_COMPRESSION;

/**
 * Gzips a layer into `out`. The same tar always gives the same bytes with the same zlib (its gzip header carries no
 * name and no time), so layers whose inputs are pinned (Debian's packages, Node) are kept in `cacheDir` by their
 * diff_id and zlib version, and a warm build copies them instead of compressing 150 MB again.
 */
export async function gzipLayer(layer: WrittenLayer, out: string, cacheDir?: string): Promise<Blob> {
  const cached =
    cacheDir === undefined
      ? undefined
      : join(cacheDir, `${layer.diffId.replace('sha256:', '')}.zlib-${process.versions.zlib}.gz`);
  if (cached !== undefined && (await isFile(cached)) && (await unpacksTo(cached, layer.diffId))) {
    await copyFile(cached, out);
    return { ...(await digestOf(out)), file: out };
  }
  const hash = createHash('sha256');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(layer.file), createGzip({ level: LEVEL }), count, createWriteStream(out));
  if (cached !== undefined && cacheDir !== undefined) {
    await mkdir(cacheDir, { recursive: true });
    const partial = `${cached}.${process.pid}.partial`;
    await copyFile(out, partial);
    await rename(partial, cached);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size, file: out };
}

/** A blob's digest and size, read back from disk (also how a cached layer is checked before use). */
export async function digestOf(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** Whether a cached blob still holds the layer: a damaged cache is compressed again, never shipped. */
async function unpacksTo(file: string, diffId: string): Promise<boolean> {
  const hash = createHash('sha256');
  try {
    await pipeline(
      createReadStream(file),
      createGunzip(),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done();
        },
      }),
    );
  } catch {
    return false;
  }
  return `sha256:${hash.digest('hex')}` === diffId;
}

async function isFile(file: string): Promise<boolean> {
  return await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}
