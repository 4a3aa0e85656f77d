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
const FORBIDDEN_CHARS = '\\u0000-\\u001F\\u007F-\\u009F\\u2028\\u2029';
const FORBIDDEN = new RegExp(`[${FORBIDDEN_CHARS}]`);

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
export function validateModelKey(key: string, prefixes: readonly string[]): KeyVerdict {
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
  return { ok: true, key };
}

/**
 * The `allowedPattern` of the SSM document's `key` parameter: the same rules
 * as `validateModelKey` except byte lengths (a regex cannot count UTF-8
 * bytes; the Lambda and the node both enforce them). It bounds each segment to
 * 255 characters, a weaker but sound bound: a segment of more characters has
 * more bytes. Written without look-arounds and with `\uXXXX` escapes so Java
 * (SSM) and JavaScript read it the same way. A segment is anything without `/`
 * or a forbidden character that is not `.` or `..`: it starts with a non-dot,
 * or with one dot and a non-dot, or with two dots and at least one more
 * character.
 */
export function ssmKeyAllowedPattern(prefixes: readonly string[]): string {
  for (const p of prefixes) {
    if (!/^[a-z0-9_]+$/.test(p)) throw new Error(`model prefix ${JSON.stringify(p)} must be lowercase letters, digits and _`);
  }
  const c = `[^/${FORBIDDEN_CHARS}]`;
  const nonDot = `[^/.${FORBIDDEN_CHARS}]`;
  const max = MAX_SEGMENT_BYTES;
  const segment = `(?:${nonDot}${c}{0,${max - 1}}|\\.${nonDot}${c}{0,${max - 2}}|\\.\\.${c}{1,${max - 2}})`;
  return `^(?:${prefixes.join('|')})(?:/${segment})+$`;
}
