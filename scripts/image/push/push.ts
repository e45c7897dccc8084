import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { ImageError } from '../errors.js';
import { MEDIA_TYPES, type Descriptor } from '../oci.js';
import { authorization } from './auth.js';
import { credentialsFor } from './credentials.js';
import { describeFailure, header, send, type Reply, type Send } from './http.js';
import { formatTarget, type PushTarget } from './target.js';

export interface PushOptions {
  /** PEM CA certificates trusted besides the system's, for a registry with a private CA. */
  readonly ca?: string | undefined;
  /** Holds the docker `config.json` with the credentials (`$DOCKER_CONFIG`, `~/.docker`). */
  readonly dockerConfigDir: string;
  readonly log: (line: string) => void;
}

/**
 * Pushes the image of an OCI layout to `target` over the distribution API (OCI distribution-spec, "Push"): each
 * blob the registry lacks (`HEAD` → 404) is uploaded in one piece (`POST` a session, `PUT` the bytes with their
 * digest), then the manifest is put under the tag. HTTPS only. Returns `REF@digest`.
 */
export async function pushLayout(
  layoutDir: string,
  target: PushTarget,
  options: PushOptions,
): Promise<string> {
  const manifestDescriptor = await readIndex(layoutDir);
  const blobPath = (d: Descriptor): string =>
    join(layoutDir, 'blobs', 'sha256', d.digest.slice('sha256:'.length));
  const manifestBytes = await readFile(blobPath(manifestDescriptor));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };

  const agent = new Agent({
    keepAlive: true,
    ...(options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca] }),
  });
  try {
    const base = new URL(`https://${target.apiHost}`);
    const auth = authorization(
      target.registry,
      await challenge(agent, base),
      await credentialsFor(target.registry, options.dockerConfigDir),
    );
    const call = async (what: Omit<Send, 'url'> & { url: URL }): Promise<Reply> => {
      // Credentials go to the registry only, not to another host an upload URL might point at.
      const headers = {
        ...what.headers,
        ...(auth !== undefined && what.url.host === base.host ? { authorization: auth } : {}),
      };
      const reply = await send(agent, { ...what, headers });
      if (reply.status === 401)
        throw new ImageError('UNAUTHORIZED', `${target.registry} refused the credentials for it (401)`);
      if (reply.status === 403)
        throw new ImageError(
          'UNAUTHORIZED',
          `${target.registry} denied the push to ${target.repository} (403)`,
        );
      return reply;
    };
    const repo = `/v2/${target.repository}`;

    for (const blob of [...manifest.layers, manifest.config]) {
      const exists = await call({ method: 'HEAD', url: new URL(`${repo}/blobs/${blob.digest}`, base) });
      if (exists.status === 200) {
        options.log(`push: ${short(blob.digest)} already there`);
        continue;
      }
      if (exists.status !== 404) throw failure(`HEAD blob ${short(blob.digest)}`, exists);
      const session = await call({ method: 'POST', url: new URL(`${repo}/blobs/uploads/`, base) });
      const location = header(session, 'location');
      if (session.status !== 202 || location === undefined) throw failure('POST blob upload', session);
      const upload = new URL(location, base);
      upload.searchParams.set('digest', blob.digest);
      const put = await call({
        method: 'PUT',
        url: upload,
        headers: { 'content-type': 'application/octet-stream' },
        body: { file: blobPath(blob), size: blob.size },
      });
      if (put.status !== 201) throw failure(`PUT blob ${short(blob.digest)}`, put);
      options.log(`push: ${short(blob.digest)} uploaded (${blob.size} bytes)`);
    }

    const put = await call({
      method: 'PUT',
      url: new URL(`${repo}/manifests/${target.tag}`, base),
      headers: { 'content-type': MEDIA_TYPES.manifest },
      body: manifestBytes,
    });
    if (put.status !== 201) throw failure('PUT manifest', put);
    const stored = header(put, 'docker-content-digest');
    if (stored !== undefined && stored !== manifestDescriptor.digest)
      throw new ImageError(
        'PUSH',
        `${target.registry} stored the manifest as ${stored}, not ${manifestDescriptor.digest}`,
      );
    return `${formatTarget(target)}@${manifestDescriptor.digest}`;
  } finally {
    agent.destroy();
  }
}

/** `GET /v2/`: the registry says whether and how to authenticate before any blob is sent. */
async function challenge(agent: Agent, base: URL): Promise<string | undefined> {
  const reply = await send(agent, { method: 'GET', url: new URL('/v2/', base) });
  if (reply.status === 200) return undefined;
  if (reply.status === 401) return header(reply, 'www-authenticate') ?? 'Basic';
  throw failure(`GET /v2/ of ${base.host} (is it a registry?)`, reply);
}

async function readIndex(layoutDir: string): Promise<Descriptor> {
  const text = await readFile(join(layoutDir, 'index.json'), 'utf8').catch((error: unknown) => {
    throw new ImageError('PUSH', `no image in ${layoutDir}: ${(error as Error).message}`, { cause: error });
  });
  const index = JSON.parse(text) as { manifests?: Descriptor[] };
  const manifest = index.manifests?.find((m) => m.mediaType === MEDIA_TYPES.manifest);
  if (manifest === undefined) throw new ImageError('PUSH', `${layoutDir}/index.json names no image manifest`);
  return manifest;
}

function failure(step: string, reply: Reply): ImageError {
  return new ImageError('PUSH', `${step}: ${describeFailure(reply)}`);
}

function short(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}
