/**
 * Reads the value inside a synthesized `${jsonencode(...)}` argument back
 * into plain data, so policies written with `Fn.jsonencode({...})` can be
 * checked like any other. cdktf renders such a value as an HCL expression:
 * objects `{"Key" = value, ...}`, lists `[...]`, quoted strings (which may
 * contain `${...}` interpolations), literals, and bare references such as
 * `aws_s3_bucket.x.arn`. Bare references come back as `${reference}` strings.
 */

/** Parse error with the offset where reading stopped. */
export class HclParseError extends Error {}

class Reader {
  private pos = 0;
  constructor(private readonly src: string) {}

  parseDocument(): unknown {
    const value = this.value();
    this.ws();
    if (this.pos !== this.src.length) this.fail('unexpected trailing text');
    return value;
  }

  private fail(reason: string): never {
    throw new HclParseError(`${reason} at offset ${this.pos} of ${JSON.stringify(this.src.slice(0, 80))}`);
  }

  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  private value(): unknown {
    this.ws();
    const c = this.src[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.list();
    if (c === '"') return this.quoted();
    const literal = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)(?![A-Za-z0-9_.])/.exec(this.src.slice(this.pos));
    if (literal) {
      this.pos += literal[0].length;
      return JSON.parse(literal[0]);
    }
    return `\${${this.bareExpression()}}`;
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.pos++; // {
    for (;;) {
      this.ws();
      if (this.src[this.pos] === '}') {
        this.pos++;
        return result;
      }
      const key = this.src[this.pos] === '"' ? this.quoted() : this.identifier();
      this.ws();
      const sep = this.src[this.pos];
      if (sep !== '=' && sep !== ':') this.fail(`expected = after key ${JSON.stringify(key)}`);
      this.pos++;
      result[key] = this.value();
      this.ws();
      if (this.src[this.pos] === ',') this.pos++;
      else if (this.src[this.pos] !== '}') this.fail('expected , or }');
    }
  }

  private list(): unknown[] {
    const result: unknown[] = [];
    this.pos++; // [
    for (;;) {
      this.ws();
      if (this.src[this.pos] === ']') {
        this.pos++;
        return result;
      }
      result.push(this.value());
      this.ws();
      if (this.src[this.pos] === ',') this.pos++;
      else if (this.src[this.pos] !== ']') this.fail('expected , or ]');
    }
  }

  private identifier(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a key');
    this.pos += m[0].length;
    return m[0];
  }

  /** A quoted template; `${...}` interpolations are kept verbatim. */
  private quoted(): string {
    let out = '';
    this.pos++; // opening quote
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\') {
        const next = this.src[this.pos + 1];
        const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
        out += escapes[next] ?? next;
        this.pos += 2;
        continue;
      }
      if (c === '$' && this.src[this.pos + 1] === '{') {
        const start = this.pos;
        this.pos += 2;
        this.skipBalanced('}');
        out += this.src.slice(start, this.pos);
        continue;
      }
      out += c;
      this.pos++;
    }
    return this.fail('unterminated string');
  }

  /** Skips to just after the `close` that balances an already-consumed opener. */
  private skipBalanced(close: string): void {
    const closers: string[] = [close];
    while (this.pos < this.src.length && closers.length > 0) {
      const c = this.src[this.pos];
      if (c === '"') {
        this.quoted();
        continue;
      }
      if (c === '{') closers.push('}');
      else if (c === '[') closers.push(']');
      else if (c === '(') closers.push(')');
      else if (c === closers[closers.length - 1]) closers.pop();
      this.pos++;
    }
    if (closers.length > 0) this.fail(`unbalanced expression, expected ${closers[closers.length - 1]}`);
  }

  /** A reference or function call, up to the next `,` `]` `}` at depth zero. */
  private bareExpression(): string {
    const start = this.pos;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === ',' || c === ']' || c === '}') break;
      if (c === '"') {
        this.quoted();
        continue;
      }
      this.pos++;
      if (c === '(') this.skipBalanced(')');
      else if (c === '[') this.skipBalanced(']');
      else if (c === '{') this.skipBalanced('}');
    }
    const expression = this.src.slice(start, this.pos).trim();
    if (!expression) this.fail('expected a value');
    return expression;
  }
}

/** `${jsonencode(X)}` -> X as data; undefined when the string is not exactly one jsonencode call. */
export function parseJsonencode(value: string): unknown {
  const m = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(value.trim());
  if (!m) return undefined;
  return new Reader(m[1]).parseDocument();
}
