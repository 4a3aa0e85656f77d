/**
 * AWS WAF web ACL for the distribution (scope CLOUDFRONT, so it is created in
 * us-east-1 through the resource-level `region` argument of AWS provider 6).
 * With an allow-list, requests from other addresses are blocked first; then a
 * per-IP rate-based rule (on by default in Basic-auth mode: it bounds
 * password guessing and the cost one client can cause); then the configured
 * AWS managed rule groups run; everything else is allowed (and still needs
 * credentials at the edge function). WAF runs before the edge function, so
 * the rate rule counts every request of an IP, not only failed logins.
 *
 * ComfyUI posts large workflow JSON and uploads images, so the Common Rule
 * Set's 8 KB body-size rule only counts instead of blocking.
 */
import { Wafv2IpSet } from '@cdktf/provider-aws/lib/wafv2-ip-set';
import { Wafv2WebAcl, Wafv2WebAclRule } from '@cdktf/provider-aws/lib/wafv2-web-acl';
import { Construct } from 'constructs';

/** WAF for CloudFront must live in us-east-1. */
export const CLOUDFRONT_WAF_REGION = 'us-east-1';

/** Rules inside managed groups switched to count because ComfyUI traffic trips them. */
export const MANAGED_RULE_COUNT_OVERRIDES: Readonly<Record<string, readonly string[]>> = {
  AWSManagedRulesCommonRuleSet: ['SizeRestrictions_BODY'],
};

export interface EdgeWafProps {
  /** Name prefix (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** Client CIDRs allowed in; empty: every address. */
  readonly allowCidrs: readonly string[];
  /** AWS managed rule group names, evaluated in this order (empty: none). */
  readonly managedRuleGroups: readonly string[];
  /** Per-IP rate limit; unset: none. */
  readonly rateLimit?: EdgeRateLimit;
}

/** A WAF rate-based rule keyed on the client IP. */
export interface EdgeRateLimit {
  /** Requests one IP may send per window before it is blocked. */
  readonly requests: number;
  /** Evaluation window in seconds (60, 120, 300 or 600). */
  readonly windowSeconds: number;
}

/** Managed rule groups of the web ACL that exists only for the rate limit (edge.waf.enabled false): exploit payloads such as Log4Shell, no false positives on ComfyUI traffic. */
export const RATE_LIMIT_ACL_RULE_GROUPS = ['AWSManagedRulesKnownBadInputsRuleSet'] as const;

/** Name of the per-IP rate-based rule. */
export const RATE_LIMIT_RULE = 'rate-limit-per-ip';

export class EdgeWaf extends Construct {
  /** The web ACL (its ARN goes into the distribution's web_acl_id). */
  public readonly webAcl: Wafv2WebAcl;

  constructor(scope: Construct, id: string, props: EdgeWafProps) {
    super(scope, id);
    const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    const rules: Wafv2WebAclRule[] = [];

    if (props.allowCidrs.length > 0) {
      const allowList = new Wafv2IpSet(this, 'AllowList', {
        name: `${props.namePrefix}-edge-allow`,
        description: 'Client CIDRs allowed to reach ComfyUI',
        scope: 'CLOUDFRONT',
        region: CLOUDFRONT_WAF_REGION,
        ipAddressVersion: 'IPV4',
        addresses: [...props.allowCidrs],
      });
      rules.push({
        name: 'block-outside-allow-list',
        priority: 0,
        action: { block: {} },
        statement: { not_statement: { statement: { ip_set_reference_statement: { arn: allowList.arn } } } },
        visibilityConfig: visibility(`${props.namePrefix}-outside-allow-list`),
      });
    }

    if (props.rateLimit) {
      rules.push({
        name: RATE_LIMIT_RULE,
        priority: 1,
        action: { block: {} },
        statement: {
          rate_based_statement: { limit: props.rateLimit.requests, evaluation_window_sec: props.rateLimit.windowSeconds, aggregate_key_type: 'IP' },
        },
        visibilityConfig: visibility(`${props.namePrefix}-rate-limit`),
      });
    }

    props.managedRuleGroups.forEach((group, index) => {
      const countOnly = MANAGED_RULE_COUNT_OVERRIDES[group] ?? [];
      rules.push({
        name: group,
        priority: index + 2,
        overrideAction: { none: {} },
        statement: {
          managed_rule_group_statement: {
            vendor_name: 'AWS',
            name: group,
            rule_action_override: countOnly.map((rule) => ({ name: rule, action_to_use: { count: {} } })),
          },
        },
        visibilityConfig: visibility(`${props.namePrefix}-${group}`),
      });
    });

    this.webAcl = new Wafv2WebAcl(this, 'WebAcl', {
      name: `${props.namePrefix}-edge`,
      description: 'ComfyUI CloudFront distribution',
      scope: 'CLOUDFRONT',
      region: CLOUDFRONT_WAF_REGION,
      defaultAction: { allow: {} },
      rule: rules,
      visibilityConfig: visibility(`${props.namePrefix}-edge`),
    });
  }
}
