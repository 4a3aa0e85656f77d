/**
 * Failure classes of the ComfyUI client. Every class has its own process exit
 * code so scripts can tell "fix your workflow" from "retry later" without
 * parsing messages. docs/api-client.md lists the same table.
 */

/** Process exit codes, one per class of failure. */
export const EXIT_CODES = {
  /** Everything worked. */
  ok: 0,
  /** A bug or an unclassified failure. */
  internal: 1,
  /** Bad command line: unknown flag, missing argument, malformed value. */
  usage: 2,
  /** The endpoint could not be reached (DNS, connection refused, TLS, reset). */
  unreachable: 3,
  /** 401/403 or a redirect to a login page: credentials missing or wrong. */
  auth: 4,
  /** The workflow file: unreadable, not JSON, UI format instead of API format, bad --set target. */
  workflow: 5,
  /** ComfyUI rejected the prompt (validation, node_errors). */
  rejected: 6,
  /** The prompt was accepted but failed while running (execution_error) or was interrupted. */
  execution: 7,
  /** The prompt did not finish within --timeout, or the server stopped answering. */
  timeout: 8,
  /** The server answered with something unexpected (5xx, non-JSON, failed download). */
  server: 9,
  /** Stopped by Ctrl-C (SIGINT), following the shell convention 128 + 2. */
  interrupted: 130,
} as const;

export type ErrorKind = keyof typeof EXIT_CODES;

/** Base class: a failure with a kind (and so an exit code) and an optional hint. */
export class ComfyError extends Error {
  /** Which class of failure this is. */
  readonly kind: ErrorKind;
  /** One or more lines telling the user what to do about it. */
  readonly hint?: string;

  constructor(kind: ErrorKind, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.hint = options.hint;
  }

  /** The process exit code of this failure. */
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

export class UsageError extends ComfyError {
  constructor(message: string, hint?: string) {
    super('usage', message, { hint });
  }
}

export class UnreachableError extends ComfyError {
  constructor(message: string, cause?: unknown) {
    super('unreachable', message, {
      cause,
      hint: 'Check the URL (--url or COMFY_URL), DNS and your network; a new deployment can take a few minutes before CloudFront answers.',
    });
  }
}

export class AuthError extends ComfyError {
  /** HTTP status that caused it (401, 403 or a 3xx redirect). */
  readonly status: number;

  constructor(message: string, status: number, hint?: string) {
    super('auth', message, { hint });
    this.status = status;
  }
}

export class WorkflowError extends ComfyError {
  constructor(message: string, hint?: string) {
    super('workflow', message, { hint });
  }
}

/** One error ComfyUI reported for one node when validating a prompt. */
export interface NodeErrorDetail {
  readonly type: string;
  readonly message: string;
  readonly details: string;
  /** Input the error is about, when ComfyUI names one. */
  readonly inputName?: string;
}

/** ComfyUI's validation errors for one node of a rejected prompt. */
export interface NodeError {
  readonly nodeId: string;
  readonly classType: string;
  readonly errors: NodeErrorDetail[];
}

export class PromptRejectedError extends ComfyError {
  /** Error type ComfyUI reported (prompt_outputs_failed_validation, invalid_prompt, ...). */
  readonly errorType: string;
  /** Per-node validation errors (empty when the error concerns the whole prompt). */
  readonly nodeErrors: NodeError[];

  constructor(message: string, errorType: string, nodeErrors: NodeError[]) {
    super('rejected', message, {
      hint: nodeErrors.some((n) => n.errors.some((e) => e.type === 'value_not_in_list'))
        ? 'A value is not among the choices the server offers; for a model, check `npm run comfy -- models` and the models bucket key.'
        : undefined,
    });
    this.errorType = errorType;
    this.nodeErrors = nodeErrors;
  }
}

export class ExecutionError extends ComfyError {
  /** Prompt that failed. */
  readonly promptId: string;
  /** Node that raised, when known. */
  readonly nodeId?: string;
  /** Class of that node, when known. */
  readonly nodeType?: string;
  /** Python exception type (e.g. torch.OutOfMemoryError), when known. */
  readonly exceptionType?: string;
  /** True when the prompt was interrupted rather than failed. */
  readonly interrupted: boolean;
  /** Python traceback lines ComfyUI reported (may be empty). */
  readonly traceback: string[];

  constructor(
    message: string,
    fields: { promptId: string; nodeId?: string; nodeType?: string; exceptionType?: string; interrupted?: boolean; traceback?: string[]; hint?: string },
  ) {
    super('execution', message, { hint: fields.hint });
    this.promptId = fields.promptId;
    this.nodeId = fields.nodeId;
    this.nodeType = fields.nodeType;
    this.exceptionType = fields.exceptionType;
    this.interrupted = fields.interrupted ?? false;
    this.traceback = fields.traceback ?? [];
  }
}

export class TimeoutError extends ComfyError {
  constructor(message: string, hint?: string) {
    super('timeout', message, { hint });
  }
}

export class ServerError extends ComfyError {
  /** HTTP status, when the failure is an HTTP answer. */
  readonly status?: number;
  /** Seconds from the answer's Retry-After header (a waking GPU: cli/comfy/wake.ts). */
  readonly retryAfterSeconds?: number;

  constructor(message: string, status?: number, hint?: string, retryAfterSeconds?: number) {
    super('server', message, { hint });
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class InterruptedError extends ComfyError {
  /** What stopped the run (SIGINT, SIGTERM, ...), when known. */
  readonly stoppedBy?: string;

  constructor(message: string, stoppedBy?: string) {
    super('interrupted', message);
    this.stoppedBy = stoppedBy;
  }
}
