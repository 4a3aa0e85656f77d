/**
 * S3 object keys of the models bucket: decoding them from event notifications
 * and deciding which ones may reach the GPU nodes.
 *
 * This module is shared: the Lambda validates keys with `validateModelKey`,
 * and the SSM document's `allowedPattern` comes from `ssmKeyAllowedPattern`,
 * so the service-side check and the Lambda's check cannot drift apart.
 * The node-side script re-validates (defence in depth).
 */

/** S3's own key limit, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Longest path segment, in UTF-8 bytes: a file name on the node's file system (NAME_MAX). */
export const MAX_SEGMENT_BYTES = 255;

/**
 * Characters never allowed in a key sent to nodes: C0 and C1 control
 * characters, DEL, and the Unicode line/paragraph separators (they break
 * logs and line-oriented tools on the node).
 */
const CONTROL_CHARS = '\\u0000-\\u001F\\u007F-\\u009F\\u2028\\u2029';
const FORBIDDEN = new RegExp(`[${CONTROL_CHARS}]`);
/**
 * Every character refused in a key, for the SSM pattern: the controls above
 * and the braces. SSM Run Command resolves `{{ssm:name}}` (and other `{{...}}`
 * references) inside parameter values before the agent sees them, so a key
 * holding `{{` could make SSM substitute a parameter's value into the key.
 * Braces are refused one by one, not only as pairs: a per-character rule is
 * what every validator (this module, a lookaround-free SSM pattern, bash)
 * states identically, and model files do not use braces.
 */
const FORBIDDEN_CHARS = `${CONTROL_CHARS}\\{\\}`;

/**
 * File extensions models may have when `models.allowedExtensions` is not set:
 * the formats ComfyUI's model loaders read (safetensors, the pickle-based
 * PyTorch formats, GGUF). Pickle formats (.ckpt, .pt, .pt2, .pth, .bin, .pkl)
 * can run code when loaded; docs/models.md shows a safetensors-only setting.
 */
export const DEFAULT_MODEL_EXTENSIONS: readonly string[] = ['.safetensors', '.sft', '.gguf', '.ckpt', '.pt', '.pt2', '.pth', '.bin', '.pkl'];

/** The syntax of one allowed extension: a dot, then lowercase letters and digits. */
export const EXTENSION_PATTERN = /^\.[a-z0-9]{1,16}$/;

/** Lowercases ASCII letters only, as the node script (bash, LC_ALL=C) does; never `toLowerCase()` (U+212A KELVIN SIGN would become `k`). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function checkExtensions(extensions: readonly string[]): void {
  if (extensions.length === 0) throw new Error('model extensions must list at least one extension');
  for (const e of extensions) {
    if (!EXTENSION_PATTERN.test(e)) throw new Error(`model extension ${JSON.stringify(e)} must be a dot followed by 1-16 lowercase letters or digits`);
  }
}

/** The allowed extension `name` ends with (ASCII case-insensitively), if any. */
export function modelExtensionOf(name: string, extensions: readonly string[]): string | undefined {
  const lower = asciiLower(name);
  return extensions.find((e) => lower.endsWith(e));
}

/** Why a key does not reach the nodes. `ignore` is expected (info log); `reject` is suspicious (warn log). */
export type KeyVerdict =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly disposition: 'ignore' | 'reject'; readonly reason: string };

/**
 * Decodes a key as S3 writes it into event notifications: form-style URL
 * encoding, so `+` is a space and `%XX` are UTF-8 bytes. A literal `+` in the
 * key arrives as `%2B`. Decoding happens exactly once: a key that itself
 * contains `%2e%2e` arrives as `%252e%252e` and stays literal.
 * Returns undefined for malformed escapes or invalid UTF-8.
 */
export function decodeS3EventKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** True when the key is a top-level tooling/hidden path such as `.model-sync/ready.json`. */
function isToolingKey(key: string): boolean {
  return key.startsWith('.');
}

/**
 * Decides whether a decoded key may be copied to or deleted from the nodes.
 * Accepted keys are `<folder>/<path>` where folder is one of `prefixes`, every
 * path segment is non-empty, neither `.` nor `..` and at most 255 UTF-8 bytes,
 * there is no leading `/`, no control character, and the key is at most 1024
 * UTF-8 bytes. Folder markers (keys ending in `/`) and tooling prefixes are
 * ignored. The node script (scripts/node/comfyui-model-sync) applies the same
 * rules; __tests__/model-sync/node-key-agreement.test.ts runs both on one corpus.
 */
export function validateModelKey(key: string, prefixes: readonly string[], extensions: readonly string[] = DEFAULT_MODEL_EXTENSIONS): KeyVerdict {
  if (key.length === 0) return { ok: false, disposition: 'reject', reason: 'empty key' };
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) return { ok: false, disposition: 'reject', reason: `key is ${bytes} bytes (at most ${MAX_KEY_BYTES})` };
  if (FORBIDDEN.test(key)) return { ok: false, disposition: 'reject', reason: 'key contains a control or line-separator character' };
  if (key.startsWith('/')) return { ok: false, disposition: 'reject', reason: 'key starts with /' };
  const segments = key.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return { ok: false, disposition: 'reject', reason: 'key has a . or .. path segment' };
  if (key.endsWith('/')) return { ok: false, disposition: 'ignore', reason: 'folder marker' };
  if (segments.some((s) => s === '')) return { ok: false, disposition: 'reject', reason: 'key has an empty path segment (//)' };
  if (isToolingKey(key)) return { ok: false, disposition: 'ignore', reason: 'tooling prefix' };
  if (segments.length < 2 || !prefixes.includes(segments[0])) {
    return { ok: false, disposition: 'ignore', reason: `key is outside the model folders (${prefixes.join(', ')})` };
  }
  const long = segments.find((s) => Buffer.byteLength(s, 'utf8') > MAX_SEGMENT_BYTES);
  if (long !== undefined) {
    return { ok: false, disposition: 'reject', reason: `key has a path segment of ${Buffer.byteLength(long, 'utf8')} bytes (at most ${MAX_SEGMENT_BYTES})` };
  }
  if (/[{}]/.test(key)) return { ok: false, disposition: 'reject', reason: 'key contains { or } (SSM Run Command resolves {{...}} in parameter values)' };
  if (modelExtensionOf(segments[segments.length - 1], extensions) === undefined) {
    return { ok: false, disposition: 'reject', reason: `file extension not in models.allowedExtensions (${extensions.join(' ')})` };
  }
  // A folder named like a model file is what a file/folder clash needs
  // (`loras/a.safetensors` and `loras/a.safetensors/b.safetensors`): files end
  // in an allowed extension and folders never do, so no key names a folder of another.
  const clash = segments.slice(1, -1).find((s) => modelExtensionOf(s, extensions) !== undefined);
  if (clash !== undefined) return { ok: false, disposition: 'reject', reason: `folder segment ${JSON.stringify(clash)} ends in a model file extension (file/folder clash)` };
  return { ok: true, key };
}

/** A regex character class matching `ch` in either ASCII case. */
function caseless(ch: string): string {
  const lower = asciiLower(ch);
  const upper = lower.toUpperCase();
  const esc = (c: string) => (/[a-z0-9]/i.test(c) ? c : `\\${c}`);
  return lower === upper ? esc(lower) : `[${lower}${upper}]`;
}

/** The class body of both ASCII cases of every character in `chars`. */
function caselessSet(chars: Iterable<string>): string {
  const out = new Set<string>();
  for (const c of chars) {
    out.add(c);
    out.add(c.toUpperCase());
  }
  return [...out].map((c) => (/[a-zA-Z0-9]/.test(c) ? c : `\\${c}`)).join('');
}

/** A trie of the extensions read backwards (last character first). */
interface SuffixNode {
  readonly children: Map<string, SuffixNode>;
  terminal: boolean;
}

function suffixTrie(extensions: readonly string[]): SuffixNode {
  const root: SuffixNode = { children: new Map(), terminal: false };
  for (const e of extensions) {
    let node = root;
    for (const ch of [...e].reverse()) {
      let next = node.children.get(ch);
      if (!next) {
        next = { children: new Map(), terminal: false };
        node.children.set(ch, next);
      }
      node = next;
    }
    node.terminal = true;
  }
  return root;
}

/**
 * The `allowedPattern` of the SSM document's keys: the same rules as
 * `validateModelKey` except byte lengths (a regex cannot count UTF-8 bytes;
 * the Lambda and the node both enforce them). It bounds each segment to 255
 * characters, a weaker but sound bound: a segment of more characters has more
 * bytes. Written without look-arounds and with `\uXXXX` escapes so Java (SSM)
 * and JavaScript read it the same way, and unanchored (the document anchors
 * its line pattern). A key is a folder, any number of `/<dir>`, then `/<file>`:
 *
 * - `<file>` ends in an allowed extension, in either ASCII case;
 * - `<dir>` is any segment that is not `.` or `..` and does *not* end in an
 *   allowed extension. "Does not end with any of these suffixes" is built
 *   without look-behind from a trie of the reversed extensions: at each trie
 *   node the segment either ends there (a proper suffix of an extension), or
 *   its next character (from the end) leaves the trie, or it follows a child
 *   that is not the end of an extension.
 */
export function ssmKeyPattern(prefixes: readonly string[], extensions: readonly string[] = DEFAULT_MODEL_EXTENSIONS): string {
  for (const p of prefixes) {
    if (!/^[a-z0-9_]+$/.test(p)) throw new Error(`model prefix ${JSON.stringify(p)} must be lowercase letters, digits and _`);
  }
  checkExtensions(extensions);
  const c = `[^/${FORBIDDEN_CHARS}]`;
  const max = MAX_SEGMENT_BYTES;
  const trie = suffixTrie(extensions);

  // The part of a <dir> segment before the `depth` characters matched so far.
  const before = (node: SuffixNode, depth: number): string => {
    const alternatives: string[] = [];
    const children = [...node.children.keys()];
    if (depth === 0) {
      // Last character: not a trie child; `.` separately so `.` and `..` stay out.
      alternatives.push(`${c}{0,${max - 1}}[^/.${caselessSet(children)}${FORBIDDEN_CHARS}]`);
      alternatives.push(`(?:[^/.${FORBIDDEN_CHARS}]|${c}{2,${max - 1}})\\.`);
    } else {
      alternatives.push('');
      alternatives.push(`${c}{0,${max - depth - 1}}[^/${caselessSet(children)}${FORBIDDEN_CHARS}]`);
    }
    for (const [ch, child] of node.children) {
      if (!child.terminal) alternatives.push(`${before(child, depth + 1)}${caseless(ch)}`);
    }
    return `(?:${alternatives.join('|')})`;
  };
  const dir = before(trie, 0);
  const file = `(?:${extensions.map((e) => `${c}{0,${max - e.length}}${[...e].map(caseless).join('')}`).join('|')})`;
  return `(?:${prefixes.join('|')})(?:/${dir})*/${file}`;
}

/** `ssmKeyPattern`, anchored: one key. */
export function ssmKeyAllowedPattern(prefixes: readonly string[], extensions: readonly string[] = DEFAULT_MODEL_EXTENSIONS): string {
  return `^${ssmKeyPattern(prefixes, extensions)}$`;
}
