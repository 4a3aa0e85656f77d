/**
 * API-format workflows: loading and checking them, `--set` overrides and seeds.
 *
 * ComfyUI has two JSON formats. The UI format ("Save" / "Export") has `nodes`
 * and `links` arrays with positions; POST /prompt only accepts the API format
 * ("Export (API)", or "Save (API Format)" with dev mode on in older UIs): an
 * object of node id -> { class_type, inputs }, where an input is a literal or
 * a link `[sourceNodeId, outputIndex]`.
 */
import { randomBytes } from 'crypto';
import { readFileSync } from 'fs';
import { UsageError, WorkflowError } from './errors';

/** One node of an API-format workflow. */
export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

/** An API-format workflow: node id -> node. */
export type ApiWorkflow = Record<string, ApiNode>;

/** A parsed `--set NODE_ID.inputs.FIELD=VALUE`. */
export interface Override {
  readonly nodeId: string;
  readonly field: string;
  /** The text after `=`, typed against the current input value when applied. */
  readonly raw: string;
}

/** Inputs that carry a sampler seed (KSampler: seed, KSamplerAdvanced / SamplerCustom: noise_seed). */
export const SEED_INPUTS: readonly string[] = ['seed', 'noise_seed'];

const EXPORT_HINT =
  'Export the workflow in API format: in the ComfyUI menu choose Workflow > Export (API); ' +
  'in older UIs enable "Dev mode" in the settings (gear icon) and use "Save (API Format)".';

/** Reads and checks an API-format workflow file; `name` (default: the path) names it in errors. */
export function loadWorkflow(file: string, name: string = file): ApiWorkflow {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WorkflowError(`cannot read workflow ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseWorkflow(text, name);
}

/** Parses and checks API-format workflow JSON; `source` names it in errors. */
export function parseWorkflow(text: string, source: string): ApiWorkflow {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new WorkflowError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(doc)) {
    throw new WorkflowError(`${source} must be a JSON object of node id -> { class_type, inputs }, got ${describeJson(doc)}`, EXPORT_HINT);
  }
  if (Array.isArray(doc.nodes) && ('links' in doc || 'last_node_id' in doc)) {
    throw new WorkflowError(`${source} is a UI-format workflow (it has "nodes" and "links"); the API accepts only the API format`, EXPORT_HINT);
  }
  // A saved POST /prompt body ({"prompt": {...}, "client_id": ...}) is accepted as is.
  const nodes = isPlainObject(doc.prompt) && !('class_type' in doc.prompt) ? doc.prompt : doc;
  const ids = Object.keys(nodes);
  if (ids.length === 0) throw new WorkflowError(`${source} has no nodes`);
  for (const id of ids) {
    const node = nodes[id];
    if (!isPlainObject(node) || typeof node.class_type !== 'string' || node.class_type === '') {
      throw new WorkflowError(`${source}: node "${id}" has no "class_type" string; this does not look like an API-format workflow`, EXPORT_HINT);
    }
    if (!isPlainObject(node.inputs)) {
      throw new WorkflowError(`${source}: node "${id}" (${node.class_type}) has no "inputs" object`, EXPORT_HINT);
    }
  }
  const workflow = nodes as unknown as ApiWorkflow;
  for (const id of ids) {
    for (const [input, value] of Object.entries(workflow[id].inputs)) {
      if (isLink(value) && !(value[0] in workflow)) {
        throw new WorkflowError(`${source}: input "${input}" of node "${id}" (${workflow[id].class_type}) links to node "${value[0]}", which is not in the workflow`);
      }
    }
  }
  return workflow;
}

/** Parses one `--set` argument (`NODE_ID.inputs.FIELD=VALUE`). */
export function parseOverride(spec: string): Override {
  const match = /^([^.=\s]+)\.inputs\.([^=]+)=([\s\S]*)$/.exec(spec);
  if (!match) {
    throw new UsageError(`--set expects NODE_ID.inputs.FIELD=VALUE, got "${spec}"`, 'Example: --set 6.inputs.text="a lighthouse at dusk" --set 3.inputs.steps=30');
  }
  return { nodeId: match[1], field: match[2], raw: match[3] };
}

/**
 * Returns a copy of `workflow` with the overrides applied. The value is typed
 * against the input it replaces: text stays text (so a prompt "42" is not a
 * number), numbers and booleans must parse as such, links must be
 * `["id", index]`; inputs without a literal value get JSON when it parses.
 */
export function applyOverrides(workflow: ApiWorkflow, overrides: readonly Override[]): ApiWorkflow {
  const result = cloneWorkflow(workflow);
  for (const o of overrides) {
    const node = result[o.nodeId];
    const where = `--set ${o.nodeId}.inputs.${o.field}`;
    if (!node) {
      throw new WorkflowError(`${where}: the workflow has no node "${o.nodeId}"`, `Nodes: ${listNodes(result)}`);
    }
    if (!(o.field in node.inputs)) {
      throw new WorkflowError(`${where}: node "${o.nodeId}" (${node.class_type}) has no input "${o.field}"`, `Its inputs: ${Object.keys(node.inputs).join(', ') || '(none)'}`);
    }
    node.inputs[o.field] = typedValue(node.inputs[o.field], o.raw, where, result);
  }
  return result;
}

/** Every (node, input) holding a literal sampler seed. */
export function seedTargets(workflow: ApiWorkflow): { nodeId: string; field: string }[] {
  const targets: { nodeId: string; field: string }[] = [];
  for (const [nodeId, node] of Object.entries(workflow)) {
    for (const field of SEED_INPUTS) {
      if (typeof node.inputs[field] === 'number') targets.push({ nodeId, field });
    }
  }
  return targets;
}

/** Returns a copy of `workflow` with every literal seed / noise_seed input set to `seed`. */
export function applySeed(workflow: ApiWorkflow, seed: number): ApiWorkflow {
  const targets = seedTargets(workflow);
  if (targets.length === 0) {
    throw new WorkflowError('--seed: the workflow has no literal "seed" or "noise_seed" input (KSampler, KSamplerAdvanced, RandomNoise, ...)');
  }
  const result = cloneWorkflow(workflow);
  for (const t of targets) result[t.nodeId].inputs[t.field] = seed;
  return result;
}

/** A random seed in [0, 2^53): exact in JSON, within ComfyUI's 64-bit seed range. */
export function randomSeed(): number {
  return Number(randomBytes(8).readBigUInt64BE() >> 11n);
}

/** Human label of a node: `KSampler #3`, or its title when it has one. */
export function nodeLabel(workflow: ApiWorkflow | undefined, nodeId: string): string {
  const node = workflow?.[nodeId];
  if (!node) return `node ${nodeId}`;
  const title = node._meta?.title;
  return title && title !== node.class_type ? `${title} (${node.class_type} #${nodeId})` : `${node.class_type} #${nodeId}`;
}

function typedValue(current: unknown, raw: string, where: string, workflow: ApiWorkflow): unknown {
  if (typeof current === 'string') return raw;
  if (typeof current === 'number') {
    const n = parseNumber(raw);
    if (n === undefined) throw new WorkflowError(`${where}: expected a number (the input holds ${current}), got "${raw}"`);
    if (Number.isInteger(n) && !Number.isSafeInteger(n)) {
      throw new WorkflowError(`${where}: ${raw} is larger than 2^53-1 and would lose precision; use a smaller value`);
    }
    return n;
  }
  if (typeof current === 'boolean') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new WorkflowError(`${where}: expected true or false, got "${raw}"`);
  }
  if (isLink(current)) {
    const parsed = tryJson(raw);
    if (!isLink(parsed)) {
      throw new WorkflowError(`${where}: this input is a link from node "${current[0]}"; replace it with a link ["NODE_ID", OUTPUT_INDEX], got "${raw}"`);
    }
    if (!(parsed[0] in workflow)) throw new WorkflowError(`${where}: links to node "${parsed[0]}", which is not in the workflow`);
    return parsed;
  }
  return looseValue(raw, where);
}

/** Type inference for inputs without a literal to compare with. */
function looseValue(raw: string, where: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw === 'null') return null;
  const n = parseNumber(raw);
  if (n !== undefined) return n;
  if (/^\s*[[{"]/.test(raw)) {
    const parsed = tryJson(raw);
    if (parsed === undefined) throw new WorkflowError(`${where}: the value looks like JSON but does not parse: ${raw}`);
    return parsed;
  }
  return raw;
}

function parseNumber(raw: string): number | undefined {
  // JSON number syntax (no leading zeros, no hex, no Infinity) so "007" or "1e" stay text.
  if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(raw.trim())) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

function tryJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isInteger(value[1]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : `a ${typeof value}`;
}

function listNodes(workflow: ApiWorkflow): string {
  return Object.entries(workflow)
    .map(([id, node]) => `${id} (${node.class_type})`)
    .join(', ');
}

function cloneWorkflow(workflow: ApiWorkflow): ApiWorkflow {
  return JSON.parse(JSON.stringify(workflow)) as ApiWorkflow;
}
