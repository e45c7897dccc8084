/**
 * The lexical rules of github.com/distribution/reference (regexp.go), written as character scanners.
 *
 * Why not regular expressions: the upstream grammar is meant for RE2, which runs in linear time. JavaScript's
 * backtracking engine does not, and the direct ports of these patterns to npm hang for tens of seconds on
 * short invalid names (the optional domain and the path share `.`-separated components, so a failing match is
 * retried in exponentially many splits). Each function below looks at every character a bounded number of times.
 *
 *   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   domain-name      := domain-component ('.' domain-component)*
 *   host             := domain-name | '[' [a-fA-F0-9:]+ ']'
 *   domain           := host (':' [0-9]+)?
 *   path-component   := [a-z0-9]+ (separator [a-z0-9]+)*      separator := [._] | '__' | '-'+
 *   remote-name      := path-component ('/' path-component)*
 *   tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest           := algorithm ':' [0-9a-fA-F]{32,}
 *   algorithm        := [A-Za-z][A-Za-z0-9]* ([-_+.][A-Za-z][A-Za-z0-9]*)*
 */

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isLowerAlnum = (c: number): boolean => isLower(c) || isDigit(c);
const isAlnum = (c: number): boolean => isLower(c) || isUpper(c) || isDigit(c);
const isHex = (c: number): boolean => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isWord = (c: number): boolean => isAlnum(c) || c === 95; // \w in RE2: [0-9A-Za-z_]

const DOT = 46;
const HYPHEN = 45;
const UNDERSCORE = 95;
const COLON = 58;

/** Lower-case alphanumerics joined by `.`, `_`, `__` or any run of `-`. */
export function isPathComponent(s: string): boolean {
  const n = s.length;
  let i = 0;
  for (;;) {
    const start = i;
    while (i < n && isLowerAlnum(s.charCodeAt(i))) i++;
    if (i === start) return false; // every separator must sit between alphanumerics
    if (i === n) return true;
    const c = s.charCodeAt(i);
    if (c === DOT) i++;
    else if (c === UNDERSCORE) i += s.charCodeAt(i + 1) === UNDERSCORE ? 2 : 1;
    else if (c === HYPHEN) while (i < n && s.charCodeAt(i) === HYPHEN) i++;
    else return false;
  }
}

/** One or more path components separated by single `/`. */
export function isRemoteName(s: string): boolean {
  return s.split('/').every(isPathComponent);
}

function isDomainComponent(s: string): boolean {
  if (s.length === 0) return false;
  if (!isAlnum(s.charCodeAt(0)) || !isAlnum(s.charCodeAt(s.length - 1))) return false;
  for (let i = 1; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c) && c !== HYPHEN) return false;
  }
  return true;
}

function isIPv6Host(s: string): boolean {
  if (s.length < 3 || s[0] !== '[' || s[s.length - 1] !== ']') return false;
  for (let i = 1; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (!isHex(c) && c !== COLON) return false;
  }
  return true;
}

/** `host[:port]`, where host is a DNS-like name, an IPv4 address (a valid DNS-like name) or `[IPv6]`. */
export function isDomain(s: string): boolean {
  let host = s;
  // The port is whatever follows the last ':' after the host; an IPv6 host keeps its own colons inside brackets.
  const colon = s.lastIndexOf(':');
  if (colon !== -1 && colon > s.lastIndexOf(']')) {
    const port = s.slice(colon + 1);
    if (port.length === 0) return false;
    for (let i = 0; i < port.length; i++) if (!isDigit(port.charCodeAt(i))) return false;
    host = s.slice(0, colon);
  }
  if (host.startsWith('[')) return isIPv6Host(host);
  return host.split('.').every(isDomainComponent);
}

export function isTag(s: string): boolean {
  if (s.length === 0 || s.length > 128 || !isWord(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isWord(c) && c !== DOT && c !== HYPHEN) return false;
  }
  return true;
}

/** The digest as the reference grammar accepts it; go-digest's stricter checks come after (see digest.ts). */
export function isDigestGrammar(s: string): boolean {
  const colon = s.indexOf(':');
  if (colon === -1) return false;
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  if (hex.length < 32) return false;
  for (let i = 0; i < hex.length; i++) if (!isHex(hex.charCodeAt(i))) return false;
  // algorithm components start with a letter and are joined by one of - _ + .
  let expectStart = true;
  if (algorithm.length === 0) return false;
  for (let i = 0; i < algorithm.length; i++) {
    const c = algorithm.charCodeAt(i);
    if (expectStart) {
      if (!isLower(c) && !isUpper(c)) return false;
      expectStart = false;
    } else if (c === HYPHEN || c === UNDERSCORE || c === 43 /* + */ || c === DOT) {
      expectStart = true;
    } else if (!isAlnum(c)) {
      return false;
    }
  }
  return !expectStart;
}

/** `^[a-f0-9]{64}$`: an image ID, which ParseNormalizedNamed refuses as a name. */
export function isHexIdentifier(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c) && !(c >= 97 && c <= 102)) return false;
  }
  return true;
}
