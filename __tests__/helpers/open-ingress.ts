/** Security-group rules in a synthesized stack that admit the whole internet (0.0.0.0/0 or ::/0). */
export function openIngressRules(synthesized: any): string[] {
  const open = (cidrs: unknown) => Array.isArray(cidrs) && cidrs.some((c) => c === '0.0.0.0/0' || c === '::/0');
  const found: string[] = [];
  const resources = synthesized.resource ?? {};
  for (const type of ['aws_security_group', 'aws_default_security_group']) {
    for (const [name, sg] of Object.entries<any>(resources[type] ?? {})) {
      for (const rule of sg.ingress ?? []) {
        if (open(rule.cidr_blocks) || open(rule.ipv6_cidr_blocks)) found.push(`${type}.${name}`);
      }
    }
  }
  for (const [name, rule] of Object.entries<any>(resources.aws_security_group_rule ?? {})) {
    if (rule.type === 'ingress' && (open(rule.cidr_blocks) || open(rule.ipv6_cidr_blocks))) found.push(`aws_security_group_rule.${name}`);
  }
  for (const [name, rule] of Object.entries<any>(resources.aws_vpc_security_group_ingress_rule ?? {})) {
    if (open([rule.cidr_ipv4, rule.cidr_ipv6])) found.push(`aws_vpc_security_group_ingress_rule.${name}`);
  }
  return found;
}
