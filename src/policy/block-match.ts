import { DEFAULT_PORTS, DOCKER_HUB, DOCKER_HUB_NAMES } from './host.js';
import type { ImageKey, RuleIndex, RuleMatch } from './rule-index.js';

/**
 * The blocked entry that covers the image, or null. A block list errs on the side of blocking: the image is
 * blocked when some spelling of its registry that a runtime may dial is covered, namely
 *
 * - every name of the registry: as written and as folded, which differ only for Docker Hub, whose names
 *   (`docker.io`, `index.docker.io`, `registry-1.docker.io`, `registry.hub.docker.com`) are one registry and one of
 *   which a runtime dials for any of them; so `*.docker.io` and `*.docker.com` block Docker Hub under every name;
 * - the port it is dialled on: the written port as a number (ports are canonical in keys and entries), or, without
 *   one, 443 and 80 (HTTPS, or plain HTTP where a node treats the registry as insecure); so `ghcr.io:443` blocks
 *   `ghcr.io/x`.
 *
 * Allow rules do not widen this way: they match the folded name on the written port only (RuleIndex.matchFirst),
 * so a name or port that only some spellings have never lets an image through.
 */
export function findBlock(blocked: RuleIndex<string>, key: ImageKey): RuleMatch<string> | null {
  const hosts = key.host === DOCKER_HUB ? DOCKER_HUB_NAMES : [key.host];
  const ports = key.port === null ? DEFAULT_PORTS : [key.port];
  // Entries are indexed under the folded name, so Docker Hub's other names can only meet wildcards: harmless
  // extra look-ups, a handful of map reads each.
  for (const host of hosts) {
    for (const port of ports) {
      const hit = blocked.matchFirst({ ...key, host, port });
      if (hit !== null) return hit;
    }
  }
  return null;
}
