/**
 * A read-only view of one stack as Terraform will see it: every resource,
 * data source and provider with its arguments resolved the way `cdktf synth`
 * writes them (snake_case keys, references as `${type.name.attr}` strings).
 * Policy rules read this view, so they judge exactly what gets applied,
 * including escape-hatch overrides, and can match a bucket to its companion
 * resources by the reference token they share.
 */
import { DefaultTokenResolver, StringConcat, TerraformDataSource, TerraformElement, TerraformProvider, TerraformResource, TerraformStack, Tokenization } from 'cdktf';
import { IConstruct } from 'constructs';

/** Resolved arguments of one element (a JSON object). */
export type Attributes = Record<string, unknown>;

/** One resource or data source of the stack. */
export interface ElementView {
  /** The construct that produced it (findings are reported on it). */
  readonly construct: IConstruct;
  /** Terraform type, e.g. `aws_s3_bucket`. */
  readonly type: string;
  /** Terraform name (the logical id), e.g. `ModelsBucket_CFE32332`. */
  readonly name: string;
  /** `type.name` for resources, `data.type.name` for data sources. */
  readonly address: string;
  /** Resolved arguments. */
  readonly attributes: Attributes;
  /** True for `TerraformResource`s whose generated class has a `tags` argument. */
  readonly taggable: boolean;
}

/** One provider block of the stack. */
export interface ProviderView {
  /** The provider construct. */
  readonly construct: IConstruct;
  /** Provider type, e.g. `aws`. */
  readonly type: string;
  /** Alias, or undefined for the default provider of its type. */
  readonly alias?: string;
  /** Resolved arguments. */
  readonly attributes: Attributes;
}

const RESOLVER = new DefaultTokenResolver(new StringConcat());

function resolveIn(stack: TerraformStack, value: unknown): unknown {
  return Tokenization.resolve(value, { scope: stack, preparing: false, resolver: RESOLVER });
}

/** The first (only) entry of `{ kind: { type: { name: attrs } } }`. */
function unwrap(fragment: unknown, kind: 'resource' | 'data'): { type: string; name: string; attributes: Attributes } | undefined {
  const byType = (fragment as Record<string, unknown> | undefined)?.[kind] as Record<string, Record<string, Attributes>> | undefined;
  if (!byType) return undefined;
  const [type, byName] = Object.entries(byType)[0] ?? [];
  if (!type || !byName) return undefined;
  const [name, attributes] = Object.entries(byName)[0] ?? [];
  if (!name || !attributes) return undefined;
  const { ['//']: _metadata, ...rest } = attributes;
  return { type, name, attributes: rest };
}

export class StackView {
  /** Every resource, in construct-tree order. */
  public readonly resources: readonly ElementView[];
  /** Every data source, in construct-tree order. */
  public readonly dataSources: readonly ElementView[];
  /** Every provider block. */
  public readonly providers: readonly ProviderView[];

  constructor(public readonly stack: TerraformStack) {
    const resources: ElementView[] = [];
    const dataSources: ElementView[] = [];
    const providers: ProviderView[] = [];
    for (const node of stack.node.findAll()) {
      if (!TerraformElement.isTerraformElement(node) || TerraformStack.of(node) !== stack) continue;
      if (node instanceof TerraformProvider) {
        const fragment = resolveIn(stack, node.toTerraform()) as { provider?: Record<string, Attributes[]> };
        for (const [type, blocks] of Object.entries(fragment.provider ?? {})) {
          for (const attributes of blocks) {
            providers.push({ construct: node, type, alias: typeof attributes.alias === 'string' ? attributes.alias : undefined, attributes });
          }
        }
      } else if (node instanceof TerraformResource) {
        const entry = unwrap(resolveIn(stack, node.toTerraform()), 'resource');
        if (entry) {
          // Generated provider classes expose resetTags() exactly when the resource has a `tags` argument.
          const taggable = typeof (node as unknown as { resetTags?: unknown }).resetTags === 'function';
          resources.push({ construct: node, ...entry, address: `${entry.type}.${entry.name}`, taggable });
        }
      } else if (node instanceof TerraformDataSource) {
        const entry = unwrap(resolveIn(stack, node.toTerraform()), 'data');
        if (entry) dataSources.push({ construct: node, ...entry, address: `data.${entry.type}.${entry.name}`, taggable: false });
      }
    }
    this.resources = resources;
    this.dataSources = dataSources;
    this.providers = providers;
  }

  /** Resources of one Terraform type. */
  public resourcesOfType(type: string): ElementView[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** Data sources of one Terraform type. */
  public dataSourcesOfType(type: string): ElementView[] {
    return this.dataSources.filter((d) => d.type === type);
  }

  /** The provider block a resource uses: its `provider` argument, else the default provider of its type. */
  public providerOf(resource: ElementView): ProviderView | undefined {
    const providerType = resource.type.split('_')[0];
    const explicit = typeof resource.attributes.provider === 'string' ? resource.attributes.provider : undefined;
    if (explicit) {
      const [type, alias] = explicit.split('.');
      return this.providers.find((p) => p.type === type && p.alias === alias);
    }
    return this.providers.find((p) => p.type === providerType && p.alias === undefined);
  }
}

/** True when `value` (a resolved argument) refers to `address` (e.g. `aws_s3_bucket.Models_1234`). */
export function refersTo(value: unknown, address: string): boolean {
  if (typeof value !== 'string') return false;
  // Terraform references look like `${aws_s3_bucket.x.id}` or appear inside a larger `${...}` expression.
  const escaped = address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.])${escaped}(\\.|\\[|$|[^A-Za-z0-9_])`).test(value) && value.includes('${');
}

/** Values of a block argument, whether synthesized as an object or a list of objects. */
export function blocks(value: unknown): Attributes[] {
  if (Array.isArray(value)) return value.filter((v): v is Attributes => typeof v === 'object' && v !== null);
  if (typeof value === 'object' && value !== null) return [value as Attributes];
  return [];
}

/** A string list argument (single strings become one-element lists; tokens stay strings). */
export function strings(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return [value];
  return [];
}
