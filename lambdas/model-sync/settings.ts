/**
 * The function's settings, read once from environment variables that the
 * ModelSyncFunction construct sets. A missing or malformed variable stops the
 * function with a message naming it (every batch then fails and the errors
 * alarm fires) instead of sending wrong commands.
 */
import type { DispatchSettings } from './dispatch';
import { EXTENSION_PATTERN } from './keys';
import type { PlanSettings } from './plan';

/** Everything the handler needs besides its AWS clients. */
export interface Settings extends PlanSettings, DispatchSettings {
  /** SendCommand calls in flight at once within one invocation. */
  readonly dispatchConcurrency: number;
}

/** Environment variable names (the construct uses the same constants). */
export const ENV = {
  bucket: 'MODELS_BUCKET',
  prefixes: 'MODEL_PREFIXES',
  extensions: 'MODEL_EXTENSIONS',
  documentName: 'SYNC_DOCUMENT_NAME',
  targetTagKey: 'TARGET_TAG_KEY',
  targetTagValue: 'TARGET_TAG_VALUE',
  outputLogGroup: 'COMMAND_LOG_GROUP',
  maxConcurrency: 'COMMAND_MAX_CONCURRENCY',
  maxErrors: 'COMMAND_MAX_ERRORS',
  deliveryTimeoutSeconds: 'COMMAND_DELIVERY_TIMEOUT_SECONDS',
  dispatchConcurrency: 'DISPATCH_CONCURRENCY',
} as const;

/** SSM's syntax for MaxConcurrency: a count or a percentage, at least 1. */
export const MAX_CONCURRENCY_PATTERN = /^([1-9][0-9]*|[1-9][0-9]?%|100%)$/;
/** SSM's syntax for MaxErrors: a count or a percentage, 0 allowed. */
export const MAX_ERRORS_PATTERN = /^(0|[1-9][0-9]*|[0-9]%|[1-9][0-9]%|100%)$/;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new Error(`environment variable ${name} is required`);
  return value;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string): number {
  const raw = required(env, name);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`environment variable ${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function rate(env: NodeJS.ProcessEnv, name: string, pattern: RegExp): string {
  const raw = required(env, name);
  if (!pattern.test(raw)) throw new Error(`environment variable ${name} must be a count or a percentage such as 10 or 25%, got ${JSON.stringify(raw)}`);
  return raw;
}

/** Reads and checks the settings; throws naming the variable at fault. */
export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const prefixes = required(env, ENV.prefixes).split(',').map((p) => p.trim());
  const badPrefix = prefixes.find((p) => !/^[a-z0-9_]+$/.test(p));
  if (badPrefix !== undefined) throw new Error(`environment variable ${ENV.prefixes} has an invalid folder ${JSON.stringify(badPrefix)}`);
  const extensions = required(env, ENV.extensions).split(',').map((e) => e.trim());
  const badExtension = extensions.find((e) => !EXTENSION_PATTERN.test(e));
  if (badExtension !== undefined) throw new Error(`environment variable ${ENV.extensions} has an invalid extension ${JSON.stringify(badExtension)} (a dot and 1-16 lowercase letters or digits)`);
  return {
    bucket: required(env, ENV.bucket),
    prefixes,
    extensions,
    documentName: required(env, ENV.documentName),
    targetTagKey: required(env, ENV.targetTagKey),
    targetTagValue: required(env, ENV.targetTagValue),
    outputLogGroup: required(env, ENV.outputLogGroup),
    maxConcurrency: rate(env, ENV.maxConcurrency, MAX_CONCURRENCY_PATTERN),
    maxErrors: rate(env, ENV.maxErrors, MAX_ERRORS_PATTERN),
    deliveryTimeoutSeconds: positiveInt(env, ENV.deliveryTimeoutSeconds),
    dispatchConcurrency: positiveInt(env, ENV.dispatchConcurrency),
  };
}
