/**
 * Shapes of the ComfyUI HTTP API answers the client reads (only the fields it
 * uses; ComfyUI adds fields over time, so everything else is passed through).
 */

/** A file a node produced, as listed in `executed` events and /history outputs. */
export interface OutputFile {
  readonly filename: string;
  readonly subfolder: string;
  /** `output` (saved), `temp` (previews) or `input`. */
  readonly type: string;
}

/** GET /history/{id} entry of one prompt. */
export interface HistoryEntry {
  /** [number, prompt_id, prompt, extra_data, outputs_to_execute]. */
  readonly prompt?: unknown[];
  /** Node id -> UI outputs (`images`, `gifs`, `text`, ...). */
  readonly outputs: Record<string, Record<string, unknown>>;
  readonly status?: {
    readonly status_str?: string;
    readonly completed?: boolean;
    /** [event name, event data] pairs: execution_start, execution_cached, execution_error, ... */
    readonly messages?: [string, Record<string, unknown>][];
  };
}

/** GET /queue. Each item: [number, prompt_id, prompt, extra_data, outputs_to_execute]. */
export interface QueueInfo {
  readonly queue_running: unknown[][];
  readonly queue_pending: unknown[][];
}

/** GET /system_stats. */
export interface SystemStats {
  readonly system: {
    readonly os?: string;
    readonly ram_total?: number;
    readonly ram_free?: number;
    readonly comfyui_version?: string;
    readonly python_version?: string;
    readonly pytorch_version?: string;
    readonly argv?: string[];
  };
  readonly devices: {
    readonly name: string;
    readonly type: string;
    readonly index?: number | null;
    readonly vram_total?: number;
    readonly vram_free?: number;
  }[];
}

/** Result of POST /prompt. */
export interface SubmittedPrompt {
  readonly promptId: string;
  /** Queue number ComfyUI assigned. */
  readonly number: number;
  /** Errors on outputs ComfyUI dropped while still accepting the prompt (usually empty). */
  readonly nodeErrors: Record<string, unknown>;
}

/** A finished prompt. */
export interface PromptResult {
  readonly promptId: string;
  /** Node id -> UI outputs, from /history (or from `executed` events if history lagged). */
  readonly outputs: Record<string, Record<string, unknown>>;
  /** Every file listed in the outputs. */
  readonly files: OutputFile[];
  /** Nodes ComfyUI served from its cache. */
  readonly cachedNodes: string[];
  /** Milliseconds from the start of waiting to completion. */
  readonly elapsedMs: number;
}

/** Progress of prompts, as reported to `onEvent` callbacks. */
export type ProgressEvent =
  | { readonly type: 'queue'; readonly remaining: number }
  | { readonly type: 'started'; readonly promptId: string }
  | { readonly type: 'cached'; readonly promptId: string; readonly nodes: string[] }
  | { readonly type: 'executing'; readonly promptId: string; readonly node: string }
  | { readonly type: 'progress'; readonly promptId: string; readonly node?: string; readonly value: number; readonly max: number }
  | { readonly type: 'executed'; readonly promptId: string; readonly node: string; readonly files: OutputFile[] }
  | { readonly type: 'finished'; readonly promptId: string; readonly elapsedMs: number }
  | { readonly type: 'connection'; readonly state: 'open' | 'closed' | 'unavailable'; readonly detail: string };

/** Model files per folder, as listed by the server. */
export interface ModelListing {
  /** `models` (GET /models/{folder}) or `object_info` (derived from loader nodes). */
  readonly source: 'models' | 'object_info';
  /**
   * Folder -> file names, relative to the folder. ComfyUI merges `clip/` into
   * `text_encoders/` and `unet/` into `diffusion_models/`, so files under the
   * bucket prefixes `clip/` and `unet/` are listed under the merged names.
   */
  readonly folders: Record<string, string[]>;
  /** The legacy folder name asked for (`clip`, `unet`) when it was answered with the folder ComfyUI merges it into. */
  readonly aliasOf?: string;
}
