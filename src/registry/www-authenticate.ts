/**
 * One challenge of a `WWW-Authenticate` header: `Bearer realm="https://auth.example/token",service="registry"`.
 * Scheme and parameter names are lower-cased (both are case-insensitive); values are kept as sent.
 */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form (`Negotiate abc==`), which registries do not use; null when absent. */
  readonly token68: string | null;
}

// RFC 9110 5.6.2: tchar.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
// RFC 9110 11.2: token68, then optional spaces, then a comma or the end.
const TOKEN68 = /^([A-Za-z0-9\-._~+/]+=*)[ \t]*(?:,|$)/;

/**
 * Parses a `WWW-Authenticate` header value into its challenges (RFC 9110 11.6.1):
 * `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`, `auth-param = token BWS "=" BWS ( token /
 * quoted-string )`, several challenges separated by commas.
 *
 * Hand-written because the grammar is ambiguous for a naive split: commas separate both parameters and
 * challenges, a quoted value may hold commas, `=` and escaped quotes (`scope="repository:a/b:pull,push"`), and
 * the npm packages that parse it are unmaintained (www-authenticate 0.6, auth-header 1.0). The rule that settles
 * the ambiguity: after a comma, `token =` continues the parameters, a token followed by anything else starts a
 * new challenge. Never throws: text that does not parse ends the list (a registry's garbage is a failed
 * authentication, not a crash).
 *
 * @example parseChallenges('Bearer realm="https://a/token",scope="repository:x:pull,push"')[0]?.params.scope
 *   // 'repository:x:pull,push'
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const s = new Scanner(header);
  while (s.skipSeparators()) {
    const scheme = s.token();
    if (scheme === null) break;
    const params: Record<string, string> = {};
    let token68: string | null = null;
    if (s.spaces() > 0) {
      const t68 = s.peekToken68();
      if (t68 !== null && !s.looksLikeParam()) {
        token68 = t68;
        s.advance(t68.length);
      } else {
        s.params(params);
      }
    }
    challenges.push({ scheme: scheme.toLowerCase(), params, token68 });
  }
  return challenges;
}

/** A cursor over the header text with the few productions the grammar needs. */
class Scanner {
  private i = 0;
  constructor(private readonly text: string) {}

  private get rest(): string {
    return this.text.slice(this.i);
  }

  advance(n: number): void {
    this.i += n;
  }

  spaces(): number {
    const start = this.i;
    while (this.text[this.i] === ' ' || this.text[this.i] === '\t') this.i++;
    return this.i - start;
  }

  /** Skips commas and whitespace between list elements; false at the end of the text. */
  skipSeparators(): boolean {
    while (this.i < this.text.length && /[\s,]/.test(this.text[this.i] ?? '')) this.i++;
    return this.i < this.text.length;
  }

  token(): string | null {
    const m = TOKEN.exec(this.rest);
    if (m === null) return null;
    this.i += m[0].length;
    return m[0];
  }

  peekToken68(): string | null {
    return TOKEN68.exec(this.rest)?.[1] ?? null;
  }

  /** Whether the text here is `token BWS "=" BWS` followed by a value (a parameter, not token68 padding). */
  looksLikeParam(): boolean {
    const m = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=[ \t]*(.|$)/.exec(this.rest);
    return m !== null && m[1] !== '=' && m[1] !== ',' && m[1] !== '';
  }

  /** Reads `name=value` pairs until the next challenge or the end. */
  params(into: Record<string, string>): void {
    for (;;) {
      if (!this.looksLikeParam()) return;
      const name = this.token();
      if (name === null) return;
      this.spaces();
      this.i++; // the '='
      this.spaces();
      const value = this.text[this.i] === '"' ? this.quoted() : this.token();
      if (value === null) return;
      // A repeated parameter is an error in the grammar; the first one wins, as in Go's net/http parsers.
      const key = name.toLowerCase();
      if (!(key in into)) into[key] = value;
      this.spaces();
      if (this.text[this.i] !== ',') return;
      // After the comma (and any empty list elements): more parameters, or the next challenge's scheme.
      const save = this.i;
      this.skipSeparators();
      if (!this.looksLikeParam()) {
        this.i = save;
        return;
      }
    }
  }

  /** A quoted-string with its backslash escapes undone; an unterminated one takes the rest of the text. */
  private quoted(): string {
    this.i++; // opening quote
    let out = '';
    while (this.i < this.text.length) {
      const c = this.text[this.i++];
      if (c === '"') return out;
      if (c === '\\' && this.i < this.text.length) out += this.text[this.i++];
      else out += c;
    }
    return out;
  }
}
