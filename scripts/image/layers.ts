import { join } from 'node:path';
import type { StagedApp } from './app.js';
import { debianEntries, type Deb } from './debian.js';
import { IMAGE, ROOTFS_DIR, type Pins } from './plan.js';
import type { LayerEntry } from './tar.js';
import { treeEntries } from './tree.js';

export interface PlannedLayer {
  /** What made it: the config's history, and the build's log. */
  readonly note: string;
  /** Made from pinned inputs only: its compressed blob is kept in the cache by diff_id. */
  readonly pinned: boolean;
  readonly entries: () => Promise<LayerEntry[]>;
}

/**
 * The image's layers, least often changed first, so that a registry and a node keep the big ones between
 * releases: Debian's libraries and the root files, Node, the production dependencies, the program.
 */
export function planLayers(
  root: string,
  pins: Pins,
  debs: readonly Deb[],
  node: readonly LayerEntry[],
  app: StagedApp,
): PlannedLayer[] {
  return [
    {
      note: `debian ${pins.debian.release} ${pins.debian.packages.join(' ')}; ${ROOTFS_DIR}`,
      pinned: true,
      entries: async () => [
        ...(await debianEntries(debs)),
        ...(await treeEntries(join(root, ROOTFS_DIR), '')),
      ],
    },
    { note: `${pins.node.package}@${pins.node.version}`, pinned: true, entries: async () => [...node] },
    {
      note: 'npm ci --omit=dev --ignore-scripts',
      pinned: false,
      entries: async () => [
        {
          kind: 'file',
          path: IMAGE.paths.packageJson,
          mode: 0o644,
          content: { file: join(app.dependencies, 'package.json') },
        },
        ...(await treeEntries(join(app.dependencies, 'node_modules'), IMAGE.paths.nodeModules)),
      ],
    },
    {
      note: 'tsc -p tsconfig.build.json',
      pinned: false,
      entries: async () => await treeEntries(app.dist, IMAGE.paths.dist),
    },
  ];
}
