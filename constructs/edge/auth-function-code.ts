/**
 * Source of the viewer-request CloudFront Function that checks Basic-auth
 * credentials (lambdas/edge-auth/viewer-request.js) and its rendering with
 * the KeyValueStore id and realm. The file is read at synth time, so the
 * deployed code is byte-for-byte the file the unit tests run.
 */
import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

/** Path of the function source, relative to the project root. */
export const AUTH_FUNCTION_SOURCE = 'lambdas/edge-auth/viewer-request.js';

/** CloudFront Functions reject code larger than this (bytes). */
export const CLOUDFRONT_FUNCTION_MAX_BYTES = 10 * 1024;

/**
 * Finds the project root by walking up from this file: the construct runs
 * from constructs/edge/ under jest and from .build/ in the esbuild bundle.
 */
function projectFile(relativePath: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${relativePath} above ${__dirname}`);
    dir = parent;
  }
}

/** The function source as committed (placeholders __KVS_ID__ and __REALM__ unresolved). */
export function authFunctionTemplate(): string {
  return readFileSync(projectFile(AUTH_FUNCTION_SOURCE), 'utf8');
}

/** What the deployed function is configured with. */
export interface AuthFunctionSettings {
  /** KeyValueStore id (a token at synth time, a UUID when deployed). */
  readonly kvsId: string;
  /** Realm of the Basic challenge. */
  readonly realm: string;
  /** Lifetime of browser session cookies, in seconds. */
  readonly sessionSeconds: number;
}

/** The deployable code: the template with the store id, realm and session lifetime filled in. */
export function renderAuthFunction(settings: AuthFunctionSettings): string {
  const { kvsId, realm, sessionSeconds } = settings;
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(realm)) {
    throw new Error(`edge.auth.realm: must be 1-64 letters, digits, spaces or . _ -, got ${JSON.stringify(realm)}`);
  }
  if (!Number.isInteger(sessionSeconds) || sessionSeconds < 60) {
    throw new Error(`edge.auth.sessionHours: must give a whole number of seconds >= 60, got ${sessionSeconds}`);
  }
  const template = authFunctionTemplate();
  const values: Record<string, string> = { __KVS_ID__: kvsId, __REALM__: realm, __SESSION_SECONDS__: String(sessionSeconds) };
  let code = template;
  for (const [placeholder, value] of Object.entries(values)) {
    if (template.split(placeholder).length !== 2) {
      throw new Error(`${AUTH_FUNCTION_SOURCE} must contain ${placeholder} exactly once`);
    }
    code = code.replace(placeholder, () => value);
  }
  return code;
}
