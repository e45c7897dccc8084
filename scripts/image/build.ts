import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stageApp } from './app.js';
import { gzipLayer, type Blob } from './compress.js';
import { fetchDebs } from './debian.js';
import { ImageError } from './errors.js';
import { nodeEntries } from './node-binary.js';
import { planLayers, type PlannedLayer } from './layers.js';
import { archiveLayout, MEDIA_TYPES, writeLayout, type Descriptor } from './oci.js';
import { IMAGE, imageConfig, parsePins } from './plan.js';
import { writeLayer } from './tar.js';

export interface BuildOptions {
  /** The checkout. */
  readonly root: string;
  /** Where the image goes (git-ignored): `oci/` (the layout), `<name>.oci.tar` (the archive), `image.json`. */
  readonly out: string;
  /** Downloads and compressed pinned layers, kept between builds (outside the checkout). */
  readonly cacheDir: string;
  /** Every file's mtime and the config's `created`. */
  readonly created: Date;
  readonly log: (line: string) => void;
}

export interface LayerSummary extends Descriptor {
  readonly note: string;
  readonly diffId: string;
  readonly uncompressedSize: number;
}

/** What a build made; written to `image.json` beside the archive for scripts and tests. */
export interface BuildResult {
  readonly version: string;
  readonly archive: string;
  readonly layout: string;
  readonly digest: string;
  readonly created: string;
  /** Manifest, config and layers as stored in a registry. */
  readonly compressedSize: number;
  /** The unpacked filesystem: the layers' tars. */
  readonly uncompressedSize: number;
  readonly layers: readonly LayerSummary[];
}

/**
 * Builds the production image without a container engine, as the Dockerfile's stages would: Debian's runtime
 * libraries (no shell, no package manager), the pinned Node, the production dependencies, the compiled program.
 * Reproducible: the same checkout, pins and `created` give the same digest (with the same zlib).
 */
export async function buildImage(options: BuildOptions): Promise<BuildResult> {
  const { root, out, cacheDir, created, log } = options;
  const pins = parsePins(await readFile(join(root, 'scripts', 'image', 'pins.json'), 'utf8'));
  const version = packageVersion(await readFile(join(root, 'package.json'), 'utf8'));
  const work = join(out, '.work');
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'layers'), { recursive: true });

  log(
    `fetching ${pins.debian.packages.length} Debian packages, ${pins.node.package}@${pins.node.version}; compiling`,
  );
  const [debs, node, app] = await Promise.all([
    fetchDebs(pins.debian, join(cacheDir, 'debs')),
    nodeEntries(root),
    stageApp(root, join(work, 'app')),
  ]);
  const planned = planLayers(root, pins, debs, node, app);

  const { blobs, layers } = await writeLayers(
    planned,
    join(work, 'layers'),
    join(cacheDir, 'layers'),
    created,
    log,
  );

  const config = imageConfig({
    version,
    created,
    diffIds: layers.map((l) => l.diffId),
    layerNotes: layers.map((l) => l.note),
  });
  const layoutDir = join(out, 'oci');
  const staging = join(work, 'oci');
  const layout = await writeLayout(staging, config, blobs, version, IMAGE.platform);
  await rm(layoutDir, { recursive: true, force: true });
  await rename(staging, layoutDir);
  const archive = join(out, `registry-gate-${version}.oci.tar`);
  await archiveLayout({ ...layout, dir: layoutDir }, archive, created);
  await rm(work, { recursive: true, force: true });

  const result: BuildResult = {
    version,
    archive,
    layout: layoutDir,
    digest: layout.manifest.digest,
    created: created.toISOString(),
    compressedSize: layout.manifest.size + layout.config.size + blobs.reduce((sum, b) => sum + b.size, 0),
    uncompressedSize: layers.reduce((sum, l) => sum + l.uncompressedSize, 0),
    layers,
  };
  await writeFile(join(out, 'image.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** Writes and compresses each layer in order (pinned ones from the cache when it holds them). */
async function writeLayers(
  planned: readonly PlannedLayer[],
  dir: string,
  cacheDir: string,
  created: Date,
  log: (line: string) => void,
): Promise<{ blobs: Blob[]; layers: LayerSummary[] }> {
  const blobs: Blob[] = [];
  const layers: LayerSummary[] = [];
  for (const [i, layer] of planned.entries()) {
    const tar = await writeLayer(await layer.entries(), join(dir, `${i}.tar`), created);
    const blob = await gzipLayer(tar, join(dir, `${i}.tar.gz`), layer.pinned ? cacheDir : undefined);
    await rm(tar.file);
    log(`layer ${i + 1}/${planned.length} ${mb(blob.size)} (${mb(tar.size)} unpacked): ${layer.note}`);
    blobs.push(blob);
    layers.push({
      mediaType: MEDIA_TYPES.layer,
      digest: blob.digest,
      size: blob.size,
      note: layer.note,
      diffId: tar.diffId,
      uncompressedSize: tar.size,
    });
  }
  return { blobs, layers };
}

function packageVersion(text: string): string {
  const parsed: unknown = JSON.parse(text);
  const version =
    typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)['version']
      : undefined;
  if (typeof version !== 'string' || version === '')
    throw new ImageError('BUILD', 'package.json has no version');
  return version;
}

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
