/**
 * Registry hosts as the gate compares them. DNS names are case-insensitive, and Docker Hub answers under several
 * names: a gate that compared bytes would let `QUAY.IO/…` or `registry-1.docker.io/…` past a rule written for
 * `quay.io` or `docker.io`, so both sides of every comparison go through {@link canonicalHost}.
 */
const dockerHubAliases: ReadonlySet<string> = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return canonicalIPv6(lower);
  return dockerHubAliases.has(lower) ? 'docker.io' : lower;
}

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
  /** The port as written, or null when none is given. */
  readonly port: string | null;
}

/** Splits `host[:port]`; an IPv6 host keeps its brackets (`[::1]:5000` → `[::1]`, `5000`). */
export function splitHostPort(domain: string): HostPort {
  const colon = domain.lastIndexOf(':');
  if (colon === -1 || colon < domain.lastIndexOf(']')) return { host: domain, port: null };
  return { host: domain.slice(0, colon), port: domain.slice(colon + 1) };
}
