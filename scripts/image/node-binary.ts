import { dirname, join } from 'node:path';
import { runTool } from './run.js';
import type { LayerEntry } from './tar.js';
import { IMAGE } from './plan.js';

/**
 * The image's Node: the binary that `scripts/lts-node.sh` fetched and checked against the pins (the same script
 * the Dockerfile runs), with its licence where Debian keeps licences.
 */
export async function nodeEntries(root: string): Promise<LayerEntry[]> {
  const binary = (
    await runTool('bash', [join(root, 'scripts', 'lts-node.sh')], {
      failure: 'FETCH',
      hint: 'is the npm registry reachable?',
    })
  ).trim();
  return [
    { kind: 'file', path: IMAGE.paths.node, mode: 0o755, content: { file: binary } },
    {
      kind: 'file',
      path: IMAGE.paths.nodeLicense,
      mode: 0o644,
      content: { file: join(dirname(dirname(binary)), 'LICENSE') },
    },
  ];
}
