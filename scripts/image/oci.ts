import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Blob } from './compress.js';
import { writeLayer, type LayerEntry, type WrittenLayer } from './tar.js';
import { sha256 } from './digest.js';

// OCI image-spec v1.1 media types (image-spec media-types.md).
export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export interface Layout {
  readonly dir: string;
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

/**
 * Writes an OCI image layout (image-spec image-layout.md) into `dir`: `oci-layout`, `index.json` naming the one
 * manifest by `refName` and platform, and `blobs/sha256/`. The layer blobs are moved in; JSON is written compact,
 * keys in a fixed order, so the same image always has the same manifest digest.
 */
export async function writeLayout(
  dir: string,
  config: Record<string, unknown>,
  layers: readonly Blob[],
  refName: string,
  platform: { readonly architecture: string; readonly os: string },
): Promise<Layout> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (mediaType: string, bytes: Buffer): Promise<Descriptor> => {
    const digest = sha256(bytes);
    await writeFile(join(blobs, digest.slice('sha256:'.length)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const layerDescriptors: Descriptor[] = [];
  for (const layer of layers) {
    await rename(layer.file, join(blobs, layer.digest.slice('sha256:'.length)));
    layerDescriptors.push({ mediaType: MEDIA_TYPES.layer, digest: layer.digest, size: layer.size });
  }
  const configDescriptor = await put(MEDIA_TYPES.config, json(config));
  const manifest = await put(
    MEDIA_TYPES.manifest,
    json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: configDescriptor,
      layers: layerDescriptors,
    }),
  );
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [{ ...manifest, platform, annotations: { 'org.opencontainers.image.ref.name': refName } }],
  };
  await writeFile(join(dir, 'index.json'), json(index));
  await writeFile(join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  return { dir, manifest, config: configDescriptor, layers: layerDescriptors };
}

/** The layout as one reproducible tar (what `skopeo copy oci-archive:…` and `podman load` read). */
export async function archiveLayout(layout: Layout, file: string, mtime: Date): Promise<WrittenLayer> {
  const blob = (d: Descriptor): LayerEntry => ({
    kind: 'file',
    path: `blobs/sha256/${d.digest.slice('sha256:'.length)}`,
    mode: 0o644,
    content: { file: join(layout.dir, 'blobs', 'sha256', d.digest.slice('sha256:'.length)) },
  });
  return await writeLayer(
    [
      { kind: 'file', path: 'oci-layout', mode: 0o644, content: { file: join(layout.dir, 'oci-layout') } },
      { kind: 'file', path: 'index.json', mode: 0o644, content: { file: join(layout.dir, 'index.json') } },
      ...[layout.manifest, layout.config, ...layout.layers].map(blob),
    ],
    file,
    mtime,
  );
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
