import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { ImageError } from './errors.js';
import { runTool } from './run.js';
import type { LayerEntry } from './tar.js';

export interface DebianPins {
  readonly release: string;
  readonly architecture: string;
  /** `name=version`, as `apt-get download` takes them. */
  readonly packages: readonly string[];
}

export interface Deb {
  readonly name: string;
  readonly version: string;
  readonly file: string;
}

/**
 * The pinned packages as .deb files, downloaded once with `apt-get download` (which checks each against the
 * archive's signed index) into `cacheDir` and reused after. Needs a Debian builder of the pinned architecture whose
 * apt sources offer the pinned versions; anything else is a one-line `PREREQUISITE` or `FETCH` error that says so.
 */
export async function fetchDebs(pins: DebianPins, cacheDir: string): Promise<Deb[]> {
  const arch = (await runTool('dpkg', ['--print-architecture'])).trim();
  if (arch !== pins.architecture)
    throw new ImageError(
      'PREREQUISITE',
      `the image's Debian packages are ${pins.architecture}, this builder is ${arch}`,
    );
  const wanted = pins.packages.map((pin) => {
    const [name = '', version = ''] = pin.split('=');
    return { name, version, file: join(cacheDir, `${name}_${version}_${pins.architecture}.deb`) };
  });
  const missing = [];
  for (const deb of wanted) if (!(await exists(deb.file))) missing.push(deb);
  if (missing.length > 0) {
    await mkdir(cacheDir, { recursive: true });
    const tmp = await mkdtemp(join(cacheDir, '.download-'));
    try {
      await runTool('apt-get', ['download', ...missing.map((d) => `${d.name}=${d.version}`)], {
        cwd: tmp,
        failure: 'FETCH',
        hint: `run apt-get update, or update the pins in scripts/image/pins.json: apt-cache policy ${missing.map((d) => d.name).join(' ')}`,
      });
      for (const file of await readdir(tmp)) {
        const fields = await control(join(tmp, file), ['Package', 'Version']);
        const deb = missing.find((d) => d.name === fields[0] && d.version === fields[1]);
        if (deb !== undefined) await rename(join(tmp, file), deb.file);
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    for (const deb of missing)
      if (!(await exists(deb.file)))
        throw new ImageError('FETCH', `apt-get download gave no ${deb.name} ${deb.version}`);
  }
  return wanted;
}

/**
 * The files of the packages as dpkg would unpack them (their data archives, modes as packaged, no maintainer
 * scripts run: the image has no shell to run them), plus `var/lib/dpkg/status.d/<name>` holding each package's
 * control fields, where image scanners look for the packages of a distroless image.
 */
export async function debianEntries(debs: readonly Deb[]): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  for (const deb of debs) {
    entries.push(...(await dataEntries(deb.file)));
    entries.push({
      kind: 'file',
      path: `var/lib/dpkg/status.d/${deb.name}`,
      mode: 0o644,
      content: { data: Buffer.from(await runTool('dpkg-deb', ['-f', deb.file])) },
    });
  }
  return entries;
}

async function control(file: string, fields: readonly string[]): Promise<string[]> {
  const out = await runTool('dpkg-deb', ['-f', file, ...fields]);
  return fields.map((field) => new RegExp(`^${field}: (.*)$`, 'm').exec(out)?.[1] ?? '');
}

/** Reads the package's data archive from `dpkg-deb --fsys-tarfile` (no extraction: modes stay as packaged). */
async function dataEntries(file: string): Promise<LayerEntry[]> {
  const child = spawn('dpkg-deb', ['--fsys-tarfile', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'close');
  const extract = tar.extract();
  child.stdout.pipe(extract);
  const entries: LayerEntry[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const { name, type, mode = 0o644, linkname } = entry.header;
    const path = name.replace(/^\.?\/+/, '');
    if (type === 'directory') entries.push({ kind: 'directory', path, mode });
    else if (type === 'file')
      entries.push({ kind: 'file', path, mode, content: { data: Buffer.concat(chunks) } });
    else if (type === 'symlink') entries.push({ kind: 'symlink', path, target: linkname ?? '' });
    else if (type === 'link') entries.push({ kind: 'hardlink', path, target: linkname ?? '' });
    else throw new ImageError('BUILD', `${file}: unexpected ${type ?? 'unknown'} entry ${name}`);
  }
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new ImageError('BUILD', `dpkg-deb --fsys-tarfile ${file} failed: ${stderr.trim()}`);
  return entries;
}

async function exists(file: string): Promise<boolean> {
  return await stat(file).then(
    () => true,
    () => false,
  );
}
