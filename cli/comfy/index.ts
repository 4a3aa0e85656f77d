/**
 * Importable ComfyUI API client (the `comfy` CLI is built on it).
 *
 *   import { ComfyClient, loadWorkflow, applyOverrides, parseOverride } from './cli/comfy';
 */
export { ComfyClient, outputFiles, localPath, formatDuration } from './client';
export type { ComfyClientOptions, Credentials, WaitOptions } from './client';
export { CookieJar } from './cookie-jar';
export { resolveEndpoint, URL_OUTPUT_NAMES, DEFAULT_OUTPUTS_FILE } from './endpoint';
export type { Endpoint, EndpointInput } from './endpoint';
export * from './errors';
export { runCli } from './cli';
export type { CliIo } from './cli';
export { ProgressReporter } from './progress';
export type * from './types';
export { loadWorkflow, parseWorkflow, parseOverride, applyOverrides, applySeed, randomSeed, seedTargets, nodeLabel, SEED_INPUTS } from './workflow';
export type { ApiNode, ApiWorkflow, Override } from './workflow';
