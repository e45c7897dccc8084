// What the image is, as data: the scripted build (build.ts) makes it from this, and test/dockerfile.test.ts holds the
// Dockerfile to the same paths, user, entrypoint, environment, Node and Debian packages. Pure: no I/O here.
import { ImageError } from './errors.js';

/** The image's runtime settings and where things are in it. */
export const IMAGE = {
  /** 65532: distroless's "nonroot"; numeric so that the kubelet can verify `runAsNonRoot`. */
  user: '65532:65532',
  workdir: '/app',
  entrypoint: ['/usr/local/bin/node', '/app/dist/main.js'],
  cmd: ['serve'],
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production'],
  exposedPorts: ['8443/tcp'],
  paths: {
    node: '/usr/local/bin/node',
    nodeLicense: '/usr/local/share/doc/node/LICENSE',
    packageJson: '/app/package.json',
    nodeModules: '/app/node_modules',
    dist: '/app/dist',
  },
  labels: {
    'org.opencontainers.image.title': 'registry-gate',
    'org.opencontainers.image.source': 'https://github.com/registry-gate/registry-gate',
    'org.opencontainers.image.licenses': 'Apache-2.0',
  },
  platform: { architecture: 'amd64', os: 'linux' },
} as const;

/** What the build stage compiles from (the Dockerfile copies exactly these, and .dockerignore lets them through). */
export const BUILD_INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'src',
];
/** What the production dependencies are installed from. */
export const DEPENDENCY_INPUTS = ['package.json', 'package-lock.json'];
/** Files both builds copy into the image's root as they are: /etc/passwd, /etc/group, /etc/nsswitch.conf. */
export const ROOTFS_DIR = 'scripts/image/rootfs';

export interface Pins {
  readonly node: { readonly package: string; readonly version: string; readonly integrity: string };
  readonly debian: {
    readonly release: string;
    readonly architecture: string;
    readonly packages: readonly string[];
  };
}

/** scripts/image/pins.json, checked: a malformed pin file is a one-line error, not a crash halfway through. */
export function parsePins(text: string): Pins {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ImageError('BUILD', 'scripts/image/pins.json is not JSON');
  }
  const node = field(raw, 'node');
  const debian = field(raw, 'debian');
  const packages = field(debian, 'packages');
  if (
    !Array.isArray(packages) ||
    !packages.every((p) => typeof p === 'string' && /^[a-z0-9.+-]+=\S+$/.test(p))
  )
    throw new ImageError(
      'BUILD',
      'scripts/image/pins.json: debian.packages must be a list of "name=version"',
    );
  return {
    node: {
      package: text_(node, 'package'),
      version: text_(node, 'version'),
      integrity: text_(node, 'integrity'),
    },
    debian: {
      release: text_(debian, 'release'),
      architecture: text_(debian, 'architecture'),
      packages: packages as string[],
    },
  };
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function text_(value: unknown, key: string): string {
  const found = field(value, key);
  if (typeof found !== 'string' || found === '')
    throw new ImageError('BUILD', `scripts/image/pins.json: ${key} must be a non-empty string`);
  return found;
}

export interface ConfigInputs {
  readonly version: string;
  /** The build's timestamp (SOURCE_DATE_EPOCH or the last commit): `created`, and every file's mtime. */
  readonly created: Date;
  readonly diffIds: readonly string[];
  readonly layerNotes: readonly string[];
}

/** The OCI image config (image-spec config.md): the runtime settings above, labels, and the layers' diff_ids. */
export function imageConfig(inputs: ConfigInputs): Record<string, unknown> {
  const created = inputs.created.toISOString();
  return {
    created,
    architecture: IMAGE.platform.architecture,
    os: IMAGE.platform.os,
    config: {
      User: IMAGE.user,
      ExposedPorts: Object.fromEntries(IMAGE.exposedPorts.map((port) => [port, {}])),
      Env: [...IMAGE.env],
      Entrypoint: [...IMAGE.entrypoint],
      Cmd: [...IMAGE.cmd],
      WorkingDir: IMAGE.workdir,
      Labels: {
        ...IMAGE.labels,
        'org.opencontainers.image.version': inputs.version,
        'org.opencontainers.image.created': created,
      },
    },
    rootfs: { type: 'layers', diff_ids: [...inputs.diffIds] },
    history: inputs.layerNotes.map((note) => ({ created, created_by: note })),
  };
}
