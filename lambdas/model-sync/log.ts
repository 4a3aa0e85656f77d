/**
 * Structured logs: one JSON object per line on stdout, which Lambda ships to
 * the function's log group as is (queryable with Logs Insights). Keys are
 * JSON-escaped, so a key with a newline cannot forge a log line.
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

/** A logger stamping every line with the request id; `write` defaults to stdout. */
export function createLogger(requestId: string, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  return (level, msg, fields = {}) => {
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg, requestId };
    for (const [k, v] of Object.entries(fields)) entry[k] = clip(v);
    write(JSON.stringify(entry));
  };
}

/** The message of an unknown thrown value, with its AWS error name when it has one. */
export function describeError(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message };
  return { errorName: 'Unknown', errorMessage: String(error) };
}
