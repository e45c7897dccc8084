import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:https';

/**
 * The port of a `registry-gate serve` child, from its "registry-gate serving" log line; rejects with what it printed
 * when it exits first or says nothing of the kind within `timeoutMs`.
 */
export async function servingPort(child: ChildProcess, timeoutMs = 20_000): Promise<number> {
  return await new Promise<number>((resolvePort, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`not serving after ${timeoutMs} ms: ${out}`)), timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"registry-gate serving"'));
      if (line !== undefined) {
        clearTimeout(timer);
        resolvePort((JSON.parse(line) as { port: number }).port);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${out}`));
    });
  });
}

/** The status of `GET https://127.0.0.1:PORT/readyz`, trusting `ca` only. */
export async function readyzStatus(port: number, ca: string): Promise<number> {
  return await new Promise<number>((resolveStatus, reject) => {
    request(`https://127.0.0.1:${port}/readyz`, { ca, timeout: 5000 }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    })
      .once('error', reject)
      .once('timeout', () => reject(new Error('/readyz did not answer in 5 s')))
      .end();
  });
}

/** SIGTERM, and wait until it has exited. */
export async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
