/**
 * Structured logs: one JSON object per line on stdout, which Lambda ships to
 * the function's log group as is (queryable with Logs Insights). Keys are
 * JSON-escaped, so a key with a newline cannot forge a log line; on top of
 * what JSON requires, C1 controls (U+0085 is a line break to some readers),
 * U+2028/U+2029 and the bidirectional overrides (U+202E makes a console show
 * text reversed) are written as \uXXXX escapes, so the line stays plain
 * ASCII-safe text and still parses to the same value.
 */

/** Log severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger. */
export interface Logger {
  /** Writes one event with fields. */
  (level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

/** Longest string value written to a log line (keys can be 1 KiB; bodies more). */
const MAX_FIELD_CHARS = 2048;

function clip(value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_FIELD_CHARS) return `${value.slice(0, MAX_FIELD_CHARS)}…(${value.length} chars)`;
  return value;
}

/** Characters JSON.stringify leaves raw that a log line must not carry: DEL, C1, line/paragraph separators, bidi marks, overrides and isolates. */
const UNSAFE_IN_LOGS = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A JSON text with every character of UNSAFE_IN_LOGS as a \uXXXX escape (still valid JSON, same value). */
export function escapeForLog(json: string): string {
  return json.replace(UNSAFE_IN_LOGS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A logger stamping every line with the request id; `write` defaults to stdout. */
export function createLogger(requestId: string, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  return (level, msg, fields = {}) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg, requestId };
    for (const [k, v] of Object.entries(fields)) entry[k] = clip(v);
    write(escapeForLog(JSON.stringify(entry)));
  };
}

/** The message of an unknown thrown value, with its AWS error name when it has one. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message };
  return { errorName: 'Unknown', errorMessage: String(error) };
}
