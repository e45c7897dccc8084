import { readFile } from 'node:fs/promises';

/**
 * Calls `onChange` with the file's text whenever it differs from the last read, checking every `intervalMs`.
 * Polling, not fs.watch: Kubernetes updates ConfigMap and Secret volumes by swapping a symlinked directory,
 * which inotify watches on the file miss. Reading a small file every second or two costs nothing.
 */
export function watchFile(
  path: string,
  intervalMs: number,
  onChange: (text: string) => void | Promise<void>,
  onError: (err: unknown) => void,
): { stop(): void } {
  let last: string | null = null;
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const text = await readFile(path, 'utf8');
      if (last !== null && text !== last) await onChange(text);
      last = text;
    } catch (err) {
      onError(err);
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
