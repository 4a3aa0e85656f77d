/**
 * Prepares copies of the synthesized stacks for `terraform validate` and for
 * `terraform apply` against moto (docs/verification.md). The project's
 * cdktf.out/ is never modified; each copy gets:
 *
 * - no backend block (state in the copy's directory) and remote-state reads
 *   pointed at the copies' state files, so nothing leaves the work directory;
 * - no kubernetes/helm providers (their providers cannot be installed here):
 *   every `helm_*`/`kubernetes_*` resource becomes a local and an output
 *   holding exactly the configuration the stack passes it, evaluated by
 *   Terraform, which the Kubernetes side renders and applies to kube-apiserver;
 * - (apply only) the resources of the types moto lacks (moto-gaps.yaml)
 *   removed, together with everything that references them, transitively and
 *   across stacks, each with the reason.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';

/** One synthesized stack: its id, directory and parsed cdk.tf.json. */
export interface SynthStack {
  readonly name: string;
  readonly dir: string;
  readonly tf: TerraformJson;
}

/** The parts of a cdk.tf.json this code reads or rewrites. */
export interface TerraformJson {
  terraform: { backend?: Record<string, unknown>; required_providers?: Record<string, unknown>; [key: string]: unknown };
  provider?: Record<string, unknown>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, Record<string, unknown>>;
  locals?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Why something was left out of an apply. */
export interface Removal {
  /** Terraform address (`aws_x.name`, `data.aws_x.name`, `output.name`). */
  readonly address: string;
  /** `gap`: its type is in moto-gaps.yaml; `dependent`: it references something removed. */
  readonly kind: 'gap' | 'dependent';
  /** The gap type or the removed address it references. */
  readonly because: string;
}

/** An in-cluster resource carried as a Terraform output for the Kubernetes side. */
export interface InClusterResource {
  readonly address: string;
  readonly type: string;
  /** Output name in the copy whose value is the resource's evaluated configuration. */
  readonly output: string;
}

export interface PreparedStack {
  readonly name: string;
  /** Directory of the copy (terraform -chdir). */
  readonly dir: string;
  /** AWS resources (and other non-Kubernetes resources) left to apply. */
  readonly resources: string[];
  readonly removed: Removal[];
  readonly inCluster: InClusterResource[];
  /** Outputs removed because they reference something removed (consumers cascade on them). */
  readonly removedOutputs: Set<string>;
  /** Stacks whose outputs this one reads. */
  readonly dependsOn: string[];
}

/** Types handled by the Kubernetes side, never by moto. */
export const isInClusterType = (type: string): boolean => type.startsWith('kubernetes_') || type.startsWith('helm_');

const META_KEYS = new Set(['//', 'depends_on', 'provider', 'lifecycle', 'count', 'for_each', 'provisioner', 'connection', 'timeouts']);
/** Blocks of kubernetes_* resources that references index as lists (`metadata[0].name`). */
const LIST_BLOCKS = new Set(['metadata', 'spec', 'data_source']);
const NAME_CHAR = /[A-Za-z0-9_-]/;

/** Reads the stacks of a cdktf output directory in manifest order. */
export function readStacks(outdir: string): SynthStack[] {
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, { workingDirectory: string }> };
  return Object.entries(manifest.stacks).map(([name, stack]) => {
    const dir = resolve(outdir, stack.workingDirectory);
    return { name, dir, tf: JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8')) as TerraformJson };
  });
}

/** The stack a `terraform_remote_state` block reads, from its state path (local backend) or key (s3 backend). */
export function remoteStateProducer(config: Record<string, unknown>): string {
  const settings = (config.config ?? {}) as { path?: string; key?: string };
  const location = String(settings.path ?? settings.key ?? '');
  const m = /(?:^|\/)(?:terraform\.)?([^/]+)\.tfstate$/.exec(location);
  if (!m) throw new Error(`cannot tell which stack terraform_remote_state reads (${config.backend} backend at ${JSON.stringify(location)})`);
  return m[1];
}

/** Stacks whose outputs the given stack reads. */
export function stackDependencies(stack: SynthStack): string[] {
  return Object.values(stack.tf.data?.terraform_remote_state ?? {}).map(remoteStateProducer);
}

/** Does `text` reference `address` as a whole Terraform address? */
export function references(text: string, address: string): boolean {
  for (let i = text.indexOf(address); i >= 0; i = text.indexOf(address, i + 1)) {
    const before = i === 0 ? '' : text[i - 1];
    const after = text[i + address.length] ?? '';
    const boundaryBefore = before === '' || !(NAME_CHAR.test(before) || (before === '.' && !address.startsWith('data.')));
    if (boundaryBefore && !NAME_CHAR.test(after)) return true;
  }
  return false;
}

interface Block {
  readonly address: string;
  readonly section: 'resource' | 'data' | 'output';
  readonly type: string;
  readonly name: string;
  readonly body: Record<string, unknown>;
}

function blocksOf(tf: TerraformJson): Block[] {
  const blocks: Block[] = [];
  for (const [type, byName] of Object.entries(tf.resource ?? {})) for (const [name, body] of Object.entries(byName)) blocks.push({ address: `${type}.${name}`, section: 'resource', type, name, body });
  for (const [type, byName] of Object.entries(tf.data ?? {})) for (const [name, body] of Object.entries(byName)) blocks.push({ address: `data.${type}.${name}`, section: 'data', type, name, body });
  for (const [name, body] of Object.entries(tf.output ?? {})) blocks.push({ address: `output.${name}`, section: 'output', type: 'output', name, body });
  return blocks;
}

/** `kubernetes_namespace_v1.X` -> the local that stands in for it. */
const localName = (address: string): string => `in_cluster__${address.replace(/\./g, '__')}`;

function stripMeta(body: Record<string, unknown>, listBlocks: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (META_KEYS.has(key)) continue;
    out[key] = listBlocks && LIST_BLOCKS.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value) ? [value] : value;
  }
  return out;
}

/**
 * Prepares one stack. `removedOutputsByStack` holds the outputs already
 * removed from the stacks this one reads (prepare in dependency order).
 */
export function prepareStack(
  stack: SynthStack,
  options: { readonly workDir: string; readonly gaps: ReadonlySet<string>; readonly removedOutputsByStack: ReadonlyMap<string, ReadonlySet<string>> },
): PreparedStack {
  const tf = JSON.parse(JSON.stringify(stack.tf)) as TerraformJson;
  const blocks = blocksOf(tf);
  const removed = new Map<string, Removal>();
  for (const b of blocks) if (b.section === 'resource' && options.gaps.has(b.type)) removed.set(b.address, { address: b.address, kind: 'gap', because: b.type });
  // Attribute gaps (`<type>.<attribute reference>`): moto leaves the attribute empty, so what reads it is skipped.
  const attributeGaps: { reference: string; gap: string }[] = [];
  for (const gap of options.gaps) {
    const dot = gap.indexOf('.');
    if (dot < 0) continue;
    const [type, attribute] = [gap.slice(0, dot), gap.slice(dot + 1)];
    for (const b of blocks) if (b.section === 'resource' && b.type === type) attributeGaps.push({ reference: `${b.address}.${attribute}`, gap });
  }
  for (const b of blocks) {
    const text = JSON.stringify({ ...b.body, depends_on: undefined });
    const hit = attributeGaps.find((a) => text.includes(a.reference));
    if (hit && !removed.has(b.address)) removed.set(b.address, { address: b.address, kind: 'gap', because: hit.gap });
  }

  // Outputs of producer stacks that are gone, as the addresses a consumer uses.
  const goneRemote: string[] = [];
  for (const [rsName, rs] of Object.entries(tf.data?.terraform_remote_state ?? {})) {
    for (const out of options.removedOutputsByStack.get(remoteStateProducer(rs)) ?? []) goneRemote.push(`data.terraform_remote_state.${rsName}.outputs.${out}`);
  }

  // Data references cascade; a resource's depends_on edge to a removed resource is only dropped (below),
  // but a data source's depends_on names what creates the thing it reads, so it cascades.
  const texts = new Map(blocks.map((b) => [b.address, JSON.stringify(b.section === 'data' ? b.body : { ...b.body, depends_on: undefined })]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const b of blocks) {
      if (removed.has(b.address)) continue;
      const text = texts.get(b.address)!;
      const cause = [...removed.keys()].find((a) => !a.startsWith('output.') && references(text, a)) ?? goneRemote.find((a) => references(text, a));
      if (cause !== undefined) {
        removed.set(b.address, { address: b.address, kind: 'dependent', because: cause });
        changed = true;
      }
    }
  }

  // Kubernetes-side resources that survive become locals + outputs.
  const inClusterBlocks = blocks.filter((b) => b.section === 'resource' && isInClusterType(b.type) && !removed.has(b.address));
  const inCluster: InClusterResource[] = [];
  tf.locals = { ...(tf.locals ?? {}) };
  tf.output = { ...(tf.output ?? {}) };
  const rewrite = (value: unknown): unknown => {
    let text = JSON.stringify(value);
    for (const k of inClusterBlocks) text = text.split(`${k.address}.`).join(`local.${localName(k.address)}.`);
    return JSON.parse(text) as unknown;
  };
  for (const b of inClusterBlocks) {
    const local = localName(b.address);
    tf.locals[local] = rewrite(stripMeta(b.body, b.type.startsWith('kubernetes_')));
    tf.output[local] = { value: `\${local.${local}}`, sensitive: true };
    inCluster.push({ address: b.address, type: b.type, output: local });
  }

  // Drop what is removed or moved, and what points at it.
  const drop = new Set([...removed.keys(), ...inClusterBlocks.map((b) => b.address)]);
  for (const b of blocks) {
    if (!drop.has(b.address)) continue;
    if (b.section === 'output') delete tf.output[b.name];
    else {
      const section = tf[b.section]!;
      delete section[b.type][b.name];
      if (Object.keys(section[b.type]).length === 0) delete section[b.type];
    }
  }
  for (const b of blocks) {
    if (drop.has(b.address) || !Array.isArray(b.body.depends_on)) continue;
    const section = b.section === 'output' ? tf.output : tf[b.section]![b.type];
    const body = (section as Record<string, Record<string, unknown>>)[b.name];
    body.depends_on = (body.depends_on as string[]).filter((d) => !drop.has(d));
    if ((body.depends_on as string[]).length === 0) delete body.depends_on;
  }
  for (const section of ['resource', 'data'] as const) if (tf[section] && Object.keys(tf[section]!).length === 0) delete tf[section];
  // What still points at an in-cluster resource reads its local instead.
  for (const section of ['resource', 'data', 'output'] as const) if (tf[section]) tf[section] = rewrite(tf[section]) as never;

  // Providers: only aws (and the built-in terraform) remain.
  for (const p of Object.keys(tf.provider ?? {})) if (p !== 'aws') delete tf.provider![p];
  for (const p of Object.keys(tf.terraform.required_providers ?? {})) if (p !== 'aws') delete tf.terraform.required_providers![p];
  delete tf.terraform.backend;
  const dir = join(options.workDir, stack.name);
  for (const rs of Object.values(tf.data?.terraform_remote_state ?? {})) {
    const body = rs as { backend: string; config: Record<string, unknown> };
    body.config = { path: join(options.workDir, remoteStateProducer(rs), 'terraform.tfstate') };
    body.backend = 'local';
  }
  // Empty sections are invalid in Terraform JSON.
  for (const section of ['locals', 'output'] as const) if (tf[section] && Object.keys(tf[section]!).length === 0) delete tf[section];

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(options.workDir, { recursive: true });
  cpSync(stack.dir, dir, { recursive: true, filter: (src) => !/[\\/]\.terraform([\\/]|$)|\.tfstate/.test(src) });
  writeFileSync(join(dir, 'cdk.tf.json'), `${JSON.stringify(tf, null, 2)}\n`);

  const removedOutputs = new Set([...removed.keys()].filter((a) => a.startsWith('output.')).map((a) => a.slice('output.'.length)));
  const resources = blocksOf(tf)
    .filter((b) => b.section === 'resource')
    .map((b) => b.address);
  return { name: stack.name, dir, resources, removed: [...removed.values()], inCluster, removedOutputs, dependsOn: stackDependencies(stack) };
}

/** Prepares every stack in dependency order (producers before consumers). */
export function prepareStacks(stacks: readonly SynthStack[], options: { readonly workDir: string; readonly gaps: ReadonlySet<string> }): PreparedStack[] {
  const removedOutputsByStack = new Map<string, ReadonlySet<string>>();
  return dependencyWaves(stacks).flatMap((wave) =>
    wave.map((stack) => {
      const prepared = prepareStack(stack, { ...options, removedOutputsByStack });
      removedOutputsByStack.set(stack.name, prepared.removedOutputs);
      return prepared;
    }),
  );
}

/** Stacks grouped so that each group only reads stacks of earlier groups (applied in parallel within a group). */
export function dependencyWaves<T extends { readonly name: string }>(stacks: readonly T[], dependencies: (stack: T) => string[] = (s) => stackDependencies(s as unknown as SynthStack)): T[][] {
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const done = new Set<string>();
  const waves: T[][] = [];
  while (done.size < stacks.length) {
    const wave = stacks.filter((s) => !done.has(s.name) && dependencies(s).every((d) => done.has(d) || !byName.has(d)));
    if (wave.length === 0) throw new Error(`cyclic stack dependencies among ${stacks.filter((s) => !done.has(s.name)).map((s) => s.name).join(', ')}`);
    wave.forEach((s) => done.add(s.name));
    waves.push(wave);
  }
  return waves;
}

/** What {@link inDependencyOrder} ran: results in the input order, and every failure. */
export interface ScheduleOutcome<R> {
  readonly results: R[];
  readonly failures: { readonly stack: string; readonly error: Error }[];
}

/**
 * Runs `run` on every stack, each as soon as what it reads has finished (with
 * `reverse`: as soon as every stack reading it has finished, the order of a
 * destroy), so a slow stack holds up only its own dependents. A failure stops
 * the stacks downstream of it; the others still run to their end, so one run
 * reports every failure it can reach.
 */
export async function inDependencyOrder<T extends { readonly name: string }, R>(
  stacks: readonly T[],
  dependencies: (stack: T) => string[],
  run: (stack: T) => Promise<R>,
  options: { readonly reverse?: boolean } = {},
): Promise<ScheduleOutcome<R>> {
  dependencyWaves(stacks, dependencies); // throws on a cycle before anything runs
  const names = new Set(stacks.map((s) => s.name));
  const before = new Map(
    stacks.map((s) => [
      s.name,
      options.reverse ? stacks.filter((o) => dependencies(o).includes(s.name)) : stacks.filter((o) => dependencies(s).includes(o.name) && names.has(o.name)),
    ]),
  );
  const results = new Map<string, R>();
  const failures: { stack: string; error: Error }[] = [];
  const running = new Map<string, Promise<boolean>>();
  const start = (stack: T): Promise<boolean> => {
    let done = running.get(stack.name);
    if (!done) {
      done = (async () => {
        const ready = await Promise.all(before.get(stack.name)!.map(start));
        if (!ready.every(Boolean)) return false;
        try {
          results.set(stack.name, await run(stack));
          return true;
        } catch (error) {
          failures.push({ stack: stack.name, error: error as Error });
          return false;
        }
      })();
      running.set(stack.name, done);
    }
    return done;
  };
  await Promise.all(stacks.map(start));
  return { results: stacks.filter((s) => results.has(s.name)).map((s) => results.get(s.name)!), failures };
}

/**
 * Arguments that block a destroy while true, and the value that lifts them: the
 * resources `destroy` refuses until the protection is applied off first (README,
 * "Tear down", names the config field of each).
 */
export const DELETION_PROTECTION: Readonly<Record<string, { readonly argument: string; readonly off: boolean | string }>> = {
  aws_dynamodb_table: { argument: 'deletion_protection_enabled', off: false },
  aws_lb: { argument: 'enable_deletion_protection', off: false },
  aws_cognito_user_pool: { argument: 'deletion_protection', off: 'INACTIVE' },
};

/**
 * The documented first teardown step for one stack, as a Terraform override
 * file: every deletion-protected resource with its protection off. `undefined`
 * when nothing in the stack is protected.
 */
export function teardownOverride(tf: TerraformJson): { resource: Record<string, Record<string, Record<string, unknown>>> } | undefined {
  const resource: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const [type, { argument, off }] of Object.entries(DELETION_PROTECTION)) {
    for (const [name, body] of Object.entries(tf.resource?.[type] ?? {})) {
      const value = (body as Record<string, unknown>)[argument];
      if (value !== undefined && value !== off) (resource[type] ??= {})[name] = { [argument]: off };
    }
  }
  return Object.keys(resource).length > 0 ? { resource } : undefined;
}
