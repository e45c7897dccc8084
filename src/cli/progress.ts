import type { ListProgress } from '../kube/list-workloads.js';

const BAR_WIDTH = 24;

/**
 * Listing progress on stderr, so stdout stays the report: on a terminal one bar redrawn in place (`\r`, then
 * cleared when done); otherwise (CI logs, pipes) one plain line per resource once it is listed.
 */
export function listProgress(
  write: (text: string) => void,
  isTerminal: boolean,
): {
  update: (p: ListProgress) => void;
  finish: () => void;
} {
  let drawn = false;
  return {
    update(p) {
      if (!isTerminal) {
        if (p.done)
          write(
            `registry-gate audit: listed ${p.listed} ${p.resource.resource} (${p.pages} ${p.pages === 1 ? 'page' : 'pages'})\n`,
          );
        return;
      }
      const fraction = (p.index + (p.done ? 1 : 0.5)) / p.total;
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
      write(
        `\r[${bar}] ${p.index + (p.done ? 1 : 0)}/${p.total} ${p.resource.resource}: ${p.listedAll} objects\u001b[K`,
      );
      drawn = true;
    },
    finish() {
      if (drawn) write('\r\u001b[K');
    },
  };
}
