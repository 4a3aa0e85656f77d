/**
 * Progress output of `comfy run`, on stderr (stdout carries only results).
 * On a terminal: one status line redrawn in place with a bar for sampler
 * steps. Otherwise (CI logs, pipes): plain lines, with sampler progress at
 * 25 % steps so logs stay short.
 */
import type { ProgressEvent } from './types';
import { type ApiWorkflow, nodeLabel } from './workflow';

/** Options of a ProgressReporter. */
export interface ProgressReporterOptions {
  /** Where to write (stderr). */
  readonly stream: NodeJS.WritableStream & { columns?: number };
  /** Redraw a status line (terminal) instead of writing log lines. */
  readonly tty: boolean;
  /** Only warnings and errors. */
  readonly quiet?: boolean;
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface PromptView {
  readonly label: string;
  readonly workflow?: ApiWorkflow;
  startedAt?: number;
  finished?: boolean;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

export class ProgressReporter {
  private readonly prompts = new Map<string, PromptView>();
  private readonly now: () => number;
  private statusLine = '';
  private lastDraw = 0;
  private lastQueue?: number;
  /** Last "ahead of this run" count printed as a line. */
  private lastAhead?: number;
  /** Prompts this run submitted or is submitting (expect()). */
  private expected = 0;
  private current?: { promptId: string; node?: string; value?: number; max?: number };
  private loggedQuarter = new Map<string, number>();

  constructor(private readonly options: ProgressReporterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Names a prompt in the output (e.g. "1/3") and gives the workflow for node names. */
  register(promptId: string, label: string, workflow?: ApiWorkflow): void {
    this.prompts.set(promptId, { label, workflow });
  }

  /** Counts a prompt this run is about to submit: the server's queue count includes it from then on. */
  expect(): void {
    this.expected += 1;
  }

  /** Prompts in the server queue that are not this run's (the server counts pending and running ones). */
  private aheadOfRun(remaining: number): number {
    const finished = [...this.prompts.values()].filter((p) => p.finished).length;
    return Math.max(0, remaining - Math.max(0, this.expected - finished));
  }

  /** A line that stays (clears the status line first). */
  info(message: string): void {
    if (!this.options.quiet) this.writeLine(message);
  }

  /** A warning, shown even with --quiet. */
  warn(message: string): void {
    this.writeLine(`warning: ${message}`);
  }

  /** Removes the status line (call before writing to stdout and before exiting); the next event redraws it. */
  finish(): void {
    this.clearStatus();
  }

  /** Handles one progress event. */
  handle(event: ProgressEvent): void {
    switch (event.type) {
      case 'connection':
        if (event.state === 'open') this.info(`progress socket ${event.detail}`);
        else if (event.state === 'closed') this.warn(`progress socket lost (${event.detail}); reconnecting, polling /history meanwhile`);
        else this.warn(`progress socket unavailable: ${event.detail}`);
        return;
      case 'queue':
        if (event.remaining !== this.lastQueue) {
          this.lastQueue = event.remaining;
          if (this.options.tty) this.redraw(true);
          // Only interesting while this run waits behind other users' prompts; this run's own prompts are not "ahead".
          else if (this.prompts.size > 0 && [...this.prompts.values()].every((p) => p.startedAt === undefined)) {
            const ahead = this.aheadOfRun(event.remaining);
            if (ahead !== (this.lastAhead ?? 0)) this.info(`server queue: ${ahead} prompt(s) ahead of this run`);
            this.lastAhead = ahead;
          }
        }
        return;
      default:
        break;
    }
    const view = this.prompts.get(event.promptId);
    const tag = `[${view?.label ?? event.promptId.slice(0, 8)}]`;
    switch (event.type) {
      case 'started':
        if (view) view.startedAt = this.now();
        this.current = { promptId: event.promptId };
        this.info(`${tag} started`);
        break;
      case 'cached':
        this.info(`${tag} cached: ${event.nodes.map((n) => nodeLabel(view?.workflow, n)).join(', ')}`);
        break;
      case 'executing':
        this.current = { promptId: event.promptId, node: event.node };
        if (this.options.tty) this.redraw(true);
        else this.info(`${tag} executing ${nodeLabel(view?.workflow, event.node)}`);
        break;
      case 'progress': {
        const node = event.node ?? this.current?.node;
        this.current = { promptId: event.promptId, node, value: event.value, max: event.max };
        if (this.options.tty) {
          this.redraw(event.value >= event.max);
          break;
        }
        const key = `${event.promptId}/${node}`;
        const quarter = event.max > 0 ? Math.floor((event.value / event.max) * 4) : 0;
        if (quarter > (this.loggedQuarter.get(key) ?? 0)) {
          this.loggedQuarter.set(key, quarter);
          this.info(`${tag} ${nodeLabel(view?.workflow, node ?? '?')}: step ${event.value}/${event.max}`);
        }
        break;
      }
      case 'executed':
        if (event.files.length > 0) this.info(`${tag} ${nodeLabel(view?.workflow, event.node)} produced ${event.files.length} file(s)`);
        break;
      case 'finished': {
        this.current = undefined;
        if (view) view.finished = true;
        // Execution time when execution_start was seen; time spent waiting otherwise.
        const ms = view?.startedAt !== undefined ? this.now() - view.startedAt : event.elapsedMs;
        this.info(`${tag} finished in ${(ms / 1000).toFixed(1)} s`);
        break;
      }
      default:
        break;
    }
  }

  private redraw(force: boolean): void {
    if (!this.options.tty || this.options.quiet) return;
    const t = this.now();
    if (!force && t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    const status = this.composeStatus();
    if (status === undefined) {
      this.clearStatus();
      return;
    }
    // A pseudo-terminal without a window size reports 0 columns.
    const columns = this.options.stream.columns || 100;
    this.statusLine = status.slice(0, Math.max(20, columns - 1));
    this.options.stream.write(`\r\x1b[2K${this.statusLine}`);
  }

  /** The status line, or undefined when nothing of this run is queued or running. */
  private composeStatus(): string | undefined {
    const cur = this.current;
    if (!cur) {
      const waiting = [...this.prompts.values()].filter((p) => !p.finished).length;
      if (waiting === 0) return undefined;
      return `${waiting} prompt(s) queued${this.lastQueue !== undefined ? `, ${this.aheadOfRun(this.lastQueue)} ahead of them` : ''}`;
    }
    const view = this.prompts.get(cur.promptId);
    const tag = `[${view?.label ?? cur.promptId.slice(0, 8)}]`;
    const elapsed = view?.startedAt !== undefined ? ` ${((this.now() - view.startedAt) / 1000).toFixed(1)} s` : '';
    const node = cur.node ? nodeLabel(view?.workflow, cur.node) : 'starting';
    if (cur.value === undefined || !cur.max) return `${tag} ${node}${elapsed}`;
    const filled = Math.round((Math.min(cur.value, cur.max) / cur.max) * BAR_WIDTH);
    return `${tag} ${node} ${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} ${cur.value}/${cur.max}${elapsed}`;
  }

  private clearStatus(): void {
    if (this.statusLine) {
      this.options.stream.write('\r\x1b[2K');
      this.statusLine = '';
    }
  }

  private writeLine(message: string): void {
    const hadStatus = this.statusLine !== '';
    this.clearStatus();
    this.options.stream.write(`${message}\n`);
    if (hadStatus && this.options.tty) this.redraw(true);
  }
}
