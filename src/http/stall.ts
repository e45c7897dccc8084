import type { IncomingMessage } from 'node:http';

/**
 * Calls `onStall` once, when `req` has gone `ms` without a byte of its body arriving; `stop()` ends the watch.
 * Stalls, not total time: a replica deciding a review near the size limit is busy for seconds, during which the
 * next body waits unread in the kernel, and that must not count against its sender. For the same reason the
 * verdict is deferred by one turn of the event loop (setImmediate runs after the poll phase): a timer that expires
 * while the loop was busy fires before the I/O that arrived meanwhile is read, and would otherwise blame the client
 * for our own pause. Whole requests are bounded by the server's requestTimeout all the same.
 */
export function watchStall(req: IncomingMessage, ms: number, onStall: () => void): { stop(): void } {
  let last = performance.now();
  let stopped = false;
  let timer: NodeJS.Timeout;
  const progress = (): void => {
    last = performance.now();
  };
  const check = (): void => {
    if (stopped) return;
    const idle = performance.now() - last;
    if (idle < ms) {
      timer = setTimeout(expire, ms - idle);
      return;
    }
    stop();
    onStall();
  };
  const expire = (): void => void setImmediate(check);
  const stop = (): void => {
    stopped = true;
    clearTimeout(timer);
    req.off('data', progress);
  };
  req.on('data', progress);
  timer = setTimeout(expire, ms);
  return { stop };
}
