import { readFileSync } from 'node:fs';

/** TCP sockets of a loopback server port, from /proc/net/tcp: does the apiserver keep its connections? */
export interface Connections {
  /** Server-side sockets open now: the apiserver's kept-alive connections. */
  readonly open: number;
  /** Sockets closed in the last minute (TIME_WAIT, either side): a new connection per call shows as hundreds. */
  readonly closedLately: number;
}

const ESTABLISHED = '01';
const TIME_WAIT = '06';

export function connectionsOf(port: number): Connections {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let open = 0;
  let closedLately = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st …, addresses as HEXIP:HEXPORT
      const [, local = '', remote = '', state = ''] = line.trim().split(/\s+/);
      const localPort = local.split(':')[1];
      const remotePort = remote.split(':')[1];
      if (state === ESTABLISHED && localPort === hex) open++;
      if (state === TIME_WAIT && (localPort === hex || remotePort === hex)) closedLately++;
    }
  }
  return { open, closedLately };
}
