/**
 * Registry hosts as the gate compares them. DNS names are case-insensitive, and Docker Hub answers under several
 * names: a gate that compared bytes would let `QUAY.IO/…` or `registry-1.docker.io/…` past a rule written for
 * `quay.io` or `docker.io`, so both sides of every comparison go through {@link canonicalHost}.
 */
export const DOCKER_HUB = 'docker.io';

/** Every name Docker Hub answers under; a runtime dials `registry-1.docker.io` for `docker.io/…`. */
export const DOCKER_HUB_NAMES: readonly string[] = [
  DOCKER_HUB,
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
];
const dockerHubAliases: ReadonlySet<string> = new Set(DOCKER_HUB_NAMES);

export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return canonicalIPv6(lower);
  return dockerHubAliases.has(lower) ? DOCKER_HUB : lower;
}

/**
 * A port as the number a runtime dials, in decimal without leading zeros: `05000` is port 5000 to Go's
 * `net.Dial` (containerd, CRI-O), so `evil.io:05000` must not slip past an `evil.io:5000` block. Kept as text (the
 * grammar admits any run of digits; a port past 65535 is never dialled, but must still compare as itself).
 */
export function canonicalPort(port: string): string {
  const trimmed = port.replace(/^0+/, '');
  return trimmed === '' ? '0' : trimmed;
}

/**
 * The ports a runtime may dial for a registry written without one: 443 over HTTPS, and 80 where the node treats
 * the registry as insecure (plain HTTP). Block lists consider both, so `ghcr.io:443` blocks `ghcr.io/x`.
 */
export const DEFAULT_PORTS: readonly string[] = ['443', '80'];

/**
 * One address has many IPv6 spellings (`[::1]`, `[0:0:0:0:0:0:0:1]`, `[0::0001]`), and runtimes parse them all to
 * the same address, so a rule must see one: the RFC 5952 form, which the WHATWG URL host parser already produces
 * (a platform parser, not I/O). An IPv4-mapped address (`[::ffff:a00:5]`) is dialled over IPv4, so it becomes the
 * dotted IPv4 host. Text that is no address (the grammar admits any hex and colons) is compared as written.
 */
function canonicalIPv6(bracketed: string): string {
  let host: string;
  try {
    host = new URL(`http://${bracketed}/`).hostname;
  } catch {
    return bracketed;
  }
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (mapped === null) return host;
  const [high, low] = [parseInt(mapped[1] ?? '0', 16), parseInt(mapped[2] ?? '0', 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

export interface HostPort {
  readonly host: string;
  /** The port, or null when none is given. */
  readonly port: string | null;
}

/** Splits `host[:port]` as written; an IPv6 host keeps its brackets (`[::1]:5000` → `[::1]`, `5000`). */
export function splitHostPort(domain: string): HostPort {
  const colon = domain.lastIndexOf(':');
  if (colon === -1 || colon < domain.lastIndexOf(']')) return { host: domain, port: null };
  return { host: domain.slice(0, colon), port: domain.slice(colon + 1) };
}

/** `host[:port]` as the gate compares it: {@link canonicalHost} and {@link canonicalPort}. */
export function canonicalHostPort(domain: string): HostPort {
  const { host, port } = splitHostPort(domain);
  return { host: canonicalHost(host), port: port === null ? null : canonicalPort(port) };
}
