/**
 * Security group ingress open to the whole internet (0.0.0.0/0 or ::/0), in
 * any of the three ways the AWS provider can express it: inline `ingress`
 * blocks of aws_security_group, aws_security_group_rule of type ingress, and
 * aws_vpc_security_group_ingress_rule. Exceptions come from an allow-list
 * whose every entry carries its reason.
 */
import { OPEN_INGRESS_ALLOW_LIST, OpenIngressException } from './allow-lists';
import { PolicyFinding, PolicyRule } from './rule';
import { Attributes, blocks, ElementView, StackView, strings } from './stack-view';

const OPEN_CIDRS = ['0.0.0.0/0', '::/0'];

interface OpenIngress {
  readonly element: ElementView;
  readonly cidr: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly protocol: string;
}

function port(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

/** All-traffic rules (protocol -1 / "all") cover every port whatever from/to say. */
function portRange(attributes: Attributes, protocolKey: string): { fromPort: number; toPort: number; protocol: string } {
  const protocol = String(attributes[protocolKey] ?? '-1');
  if (protocol === '-1' || protocol === 'all') return { fromPort: 0, toPort: 65535, protocol };
  return { fromPort: port(attributes.from_port, 0), toPort: port(attributes.to_port, 65535), protocol };
}

function openIngress(view: StackView): OpenIngress[] {
  const found: OpenIngress[] = [];
  for (const group of view.resourcesOfType('aws_security_group')) {
    for (const rule of blocks(group.attributes.ingress)) {
      for (const cidr of [...strings(rule.cidr_blocks), ...strings(rule.ipv6_cidr_blocks)]) {
        if (OPEN_CIDRS.includes(cidr)) found.push({ element: group, cidr, ...portRange(rule, 'protocol') });
      }
    }
  }
  for (const rule of view.resourcesOfType('aws_security_group_rule')) {
    if (rule.attributes.type !== 'ingress') continue;
    for (const cidr of [...strings(rule.attributes.cidr_blocks), ...strings(rule.attributes.ipv6_cidr_blocks)]) {
      if (OPEN_CIDRS.includes(cidr)) found.push({ element: rule, cidr, ...portRange(rule.attributes, 'protocol') });
    }
  }
  for (const rule of view.resourcesOfType('aws_vpc_security_group_ingress_rule')) {
    for (const cidr of [...strings(rule.attributes.cidr_ipv4), ...strings(rule.attributes.cidr_ipv6)]) {
      if (OPEN_CIDRS.includes(cidr)) found.push({ element: rule, cidr, ...portRange(rule.attributes, 'ip_protocol') });
    }
  }
  return found;
}

/** Construct path relative to its stack, e.g. `Edge/Alb/SecurityGroup`. */
function relativePath(view: StackView, element: ElementView): string {
  return element.construct.node.path.slice(view.stack.node.path.length + 1);
}

function pathMatches(pattern: string, path: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return regex.test(path);
}

export interface OpenIngressRuleProps {
  /** Exceptions; default OPEN_INGRESS_ALLOW_LIST. */
  readonly allowList?: readonly OpenIngressException[];
}

export class OpenIngressRule implements PolicyRule {
  public readonly id = 'COMFY-SG-001';
  public readonly summary = 'No security group accepts ingress from 0.0.0.0/0 or ::/0, except entries of OPEN_INGRESS_ALLOW_LIST (each with its reason).';
  private readonly allowList: readonly OpenIngressException[];

  constructor(props: OpenIngressRuleProps = {}) {
    this.allowList = props.allowList ?? OPEN_INGRESS_ALLOW_LIST;
    for (const entry of this.allowList) {
      if (entry.reason.trim().length < 20) {
        throw new Error(`open ingress allow-list entry ${entry.constructPath}: reason must say why the listener faces the internet (at least 20 characters)`);
      }
      if (!(entry.fromPort >= 0 && entry.toPort <= 65535 && entry.fromPort <= entry.toPort)) {
        throw new Error(`open ingress allow-list entry ${entry.constructPath}: fromPort..toPort must be a port range within 0..65535, got ${entry.fromPort}..${entry.toPort}`);
      }
    }
  }

  public check(view: StackView): PolicyFinding[] {
    return openIngress(view)
      .filter((o) => !this.allowList.some((e) => pathMatches(e.constructPath, relativePath(view, o.element)) && e.fromPort <= o.fromPort && o.toPort <= e.toPort))
      .map((o) => ({
        construct: o.element.construct,
        message: `security group ingress allows ${o.cidr} on ${o.fromPort === o.toPort ? `port ${o.fromPort}` : `ports ${o.fromPort}-${o.toPort}`} (protocol ${o.protocol}): allow a security group or prefix list instead, or add an entry with its reason to OPEN_INGRESS_ALLOW_LIST`,
      }));
  }
}
