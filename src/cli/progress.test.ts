import { describe, expect, it } from 'vitest';
import { POD_BEARING_RESOURCES } from '../kube/pod-bearing-resources.js';
import type { ListProgress } from '../kube/list-workloads.js';
import { listProgress } from './progress.js';

const pods = POD_BEARING_RESOURCES[0];
if (pods === undefined) throw new Error('no pods row');
const step = (listed: number, pages: number, done: boolean): ListProgress => ({
  resource: pods,
  index: 0,
  total: 9,
  listed,
  listedAll: listed,
  pages,
  done,
});

describe('listProgress', () => {
  it('writes one plain line per listed resource when stderr is not a terminal', () => {
    let out = '';
    const p = listProgress((t) => (out += t), false);
    p.update(step(500, 1, false));
    p.update(step(560, 2, true));
    p.finish();
    expect(out).toBe('registry-gate audit: listed 560 pods (2 pages)\n');
  });

  it('redraws one bar in place on a terminal and clears it at the end', () => {
    let out = '';
    const p = listProgress((t) => (out += t), true);
    p.update(step(500, 1, false));
    p.update(step(560, 2, true));
    p.finish();
    expect(out.split('\r').filter((s) => s !== '')).toEqual([
      '[#.......................] 0/9 pods: 500 objects\u001b[K',
      '[###.....................] 1/9 pods: 560 objects\u001b[K',
      '\u001b[K',
    ]);
    expect(out).not.toContain('\n');
  });
});
