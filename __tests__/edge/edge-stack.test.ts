import { CloudfrontDistribution } from '@cdktf/provider-aws/lib/cloudfront-distribution';
import { CloudfrontFunction } from '@cdktf/provider-aws/lib/cloudfront-function';
import { CloudfrontVpcOrigin } from '@cdktf/provider-aws/lib/cloudfront-vpc-origin';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Wafv2WebAcl } from '@cdktf/provider-aws/lib/wafv2-web-acl';
import { Testing } from 'cdktf';
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { ORIGIN_HEADER_RULE_PRIORITY } from '../../constructs/edge/internal-alb';
import { MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER, MANAGED_CACHING_DISABLED } from '../../constructs/edge/edge-distribution';
import { EdgeStack } from '../../stacks/edge-stack';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER, FAKE_NETWORK, synthEdge } from './fixtures';

const values = (parsed: any, type: string): any[] => Object.values(parsed.resource?.[type] ?? {});
const keys = (parsed: any, type: string): string[] => Object.keys(parsed.resource?.[type] ?? {});
const one = (parsed: any, type: string): any => {
  const all = values(parsed, type);
  expect(all).toHaveLength(1);
  return all[0];
};
const ref = (parsed: any, type: string, attribute: string) => `\${${type}.${keys(parsed, type)[0]}.${attribute}}`;
const behaviours = (distribution: any): any[] => [distribution.default_cache_behavior, ...distribution.ordered_cache_behavior];

describe('EdgeStack: internal ALB', () => {
  const { synth, parsed } = synthEdge();
  const albSg = ref(parsed, 'aws_security_group', 'id');

  it('is an internal ALB in its own load balancer subnets with a 4000 s idle timeout, invalid headers dropped and access logs on', () => {
    expect(synth).toHaveResourceWithProperties(Lb, {
      internal: true,
      load_balancer_type: 'application',
      subnets: FAKE_NETWORK.albSubnetIds,
      security_groups: [albSg],
      idle_timeout: 4000,
      drop_invalid_header_fields: true,
      enable_deletion_protection: false,
      access_logs: { bucket: ref(parsed, 'aws_s3_bucket', 'bucket'), prefix: 'alb', enabled: true },
    });
    // ELB tests write access when the ALB is created: the bucket policy must exist first.
    expect(one(parsed, 'aws_lb').depends_on).toEqual([`aws_s3_bucket_policy.${keys(parsed, 'aws_s3_bucket_policy')[0]}`]);
  });

  it('turns deletion protection on from config', () => {
    expect(synthEdge({ edge: { alb: { deletionProtection: true } } }).synth).toHaveResourceWithProperties(Lb, { enable_deletion_protection: true });
  });

  it('answers 403 by default in basic mode: only the out-of-band rule with the origin header forwards (HTTP 80 inside the VPC)', () => {
    expect(synth).toHaveResourceWithProperties(LbListener, {
      protocol: 'HTTP',
      port: 80,
      default_action: [{ type: 'fixed-response', fixed_response: { status_code: '403', content_type: 'text/plain', message_body: expect.stringContaining('Forbidden') } }],
    });
    // The value is never in Terraform: no listener rule here, the rule comes from scripts/edge-user.sh init.
    expect(parsed.resource.aws_lb_listener_rule).toBeUndefined();
    expect(readFileSync(resolve(__dirname, '../../scripts/edge-user.sh'), 'utf8')).toContain(`ORIGIN_RULE_PRIORITY=${ORIGIN_HEADER_RULE_PRIORITY}\n`);
  });

  it('forwards by default when the edge adds no origin header (auth.mode none)', () => {
    const open = synthEdge({ edge: { auth: { mode: 'none', acknowledgeUnauthenticated: true } } });
    expect(open.synth).toHaveResourceWithProperties(LbListener, { default_action: [{ type: 'forward', target_group_arn: ref(open.parsed, 'aws_lb_target_group', 'arn') }] });
  });

  it('uses an ip target group on the ComfyUI port', () => {
    expect(synth).toHaveResourceWithProperties(LbTargetGroup, {
      target_type: 'ip',
      protocol: 'HTTP',
      port: 8188,
      vpc_id: FAKE_NETWORK.vpcId,
      deregistration_delay: '600',
      health_check: expect.objectContaining({ path: '/system_stats', matcher: '200', port: 'traffic-port' }),
      stickiness: { type: 'lb_cookie', enabled: true, cookie_duration: 86400 },
    });
  });

  it('follows app.port and the health-check and deregistration settings', () => {
    const custom = synthEdge({ app: { port: 9000 }, edge: { alb: { healthCheckPath: '/api/system_stats', deregistrationDelaySeconds: 1800 } } });
    expect(custom.synth).toHaveResourceWithProperties(LbTargetGroup, {
      port: 9000,
      deregistration_delay: '1800',
      health_check: expect.objectContaining({ path: '/api/system_stats' }),
    });
    const egress = one(custom.parsed, 'aws_vpc_security_group_egress_rule');
    expect([egress.from_port, egress.to_port]).toEqual([9000, 9000]);
  });

  it('admits only CloudFront VPC origins: one ingress rule, from the service-managed security group, looked up after the VPC origin exists', () => {
    const ingress = values(parsed, 'aws_vpc_security_group_ingress_rule').filter((r) => r.security_group_id === albSg);
    expect(ingress).toHaveLength(1);
    const lookupName = Object.keys(parsed.data.aws_security_group)[0];
    expect(ingress[0]).toMatchObject({ ip_protocol: 'tcp', from_port: 80, to_port: 80, referenced_security_group_id: `\${data.aws_security_group.${lookupName}.id}` });
    const lookup = parsed.data.aws_security_group[lookupName];
    expect(lookup.filter).toEqual([
      { name: 'group-name', values: ['CloudFront-VPCOrigins-Service-SG'] },
      { name: 'vpc-id', values: [FAKE_NETWORK.vpcId] },
    ]);
    expect(lookup.depends_on).toEqual([`aws_cloudfront_vpc_origin.${keys(parsed, 'aws_cloudfront_vpc_origin')[0]}`]);
    expect(one(parsed, 'aws_security_group').ingress).toBeUndefined();
  });

  it('can admit the CloudFront origin-facing prefix list instead', () => {
    const alt = synthEdge({ edge: { alb: { allowFrom: 'cloudfront-prefix-list' } } }).parsed;
    const listName = Object.keys(alt.data.aws_ec2_managed_prefix_list)[0];
    expect(alt.data.aws_ec2_managed_prefix_list[listName].name).toBe('com.amazonaws.global.cloudfront.origin-facing');
    const ingress = values(alt, 'aws_vpc_security_group_ingress_rule').filter((r) => r.prefix_list_id);
    expect(ingress).toHaveLength(1);
    expect(alt.data.aws_security_group).toBeUndefined();
  });

  it('opens nothing to the internet and lets the ALB talk only to the VPC on the ComfyUI port', () => {
    expect(synth).not.toContain('0.0.0.0/0');
    expect(one(parsed, 'aws_vpc_security_group_egress_rule')).toMatchObject({
      security_group_id: albSg,
      cidr_ipv4: FAKE_NETWORK.vpcCidr,
      ip_protocol: 'tcp',
      from_port: 8188,
      to_port: 8188,
    });
  });

  it('lets the ALB reach pods through the node security group on the ComfyUI port (targets are pod IPs)', () => {
    const nodeRule = values(parsed, 'aws_vpc_security_group_ingress_rule').find((r) => r.security_group_id === FAKE_CLUSTER.nodeSecurityGroupId);
    expect(nodeRule).toMatchObject({ referenced_security_group_id: albSg, ip_protocol: 'tcp', from_port: 8188, to_port: 8188 });
  });

  it('switches to HTTPS 443 end to end when a regional certificate and origin name are configured', () => {
    const https = synthEdge({
      edge: { alb: { https: { certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100', originDomainName: 'origin.comfy.example.com' } } },
    });
    expect(https.synth).toHaveResourceWithProperties(LbListener, {
      protocol: 'HTTPS',
      port: 443,
      certificate_arn: 'arn:aws:acm:us-west-2:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100',
      ssl_policy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    expect(keys(https.parsed, 'aws_lb_listener')).toHaveLength(1);
    expect(one(https.parsed, 'aws_cloudfront_vpc_origin').vpc_origin_endpoint_config[0].origin_protocol_policy).toBe('https-only');
    expect(one(https.parsed, 'aws_cloudfront_distribution').origin[0].domain_name).toBe('origin.comfy.example.com');
    const albSgHttps = ref(https.parsed, 'aws_security_group', 'id');
    const ingress = values(https.parsed, 'aws_vpc_security_group_ingress_rule').find((r) => r.security_group_id === albSgHttps);
    expect([ingress.from_port, ingress.to_port]).toEqual([443, 443]);
  });

  it('keeps ALB and target group names within 32 characters for long name/environment pairs', () => {
    const long = synthEdge({ name: 'studio-render-farm', environment: 'production-eu' }).parsed;
    const lbName: string = one(long, 'aws_lb').name;
    const tgName: string = one(long, 'aws_lb_target_group').name;
    expect(lbName.length).toBeLessThanOrEqual(32);
    expect(tgName.length).toBeLessThanOrEqual(32);
    expect(lbName).toMatch(/^[a-z0-9][a-z0-9-]*-edge$/);
    expect(tgName).not.toBe(lbName);
  });
});

describe('EdgeStack: CloudFront', () => {
  const { synth, parsed } = synthEdge();
  const distribution = one(parsed, 'aws_cloudfront_distribution');

  it('reaches the ALB through a VPC origin by ARN (no synth-time lookup)', () => {
    expect(synth).toHaveResourceWithProperties(CloudfrontVpcOrigin, {
      vpc_origin_endpoint_config: [expect.objectContaining({ arn: ref(parsed, 'aws_lb', 'arn'), http_port: 80, origin_protocol_policy: 'http-only' })],
    });
    expect(distribution.origin).toEqual([
      {
        origin_id: 'comfyui-alb',
        domain_name: ref(parsed, 'aws_lb', 'dns_name'),
        vpc_origin_config: { vpc_origin_id: ref(parsed, 'aws_cloudfront_vpc_origin', 'id'), origin_read_timeout: 60, origin_keepalive_timeout: 60 },
      },
    ]);
    expect(parsed.data.aws_lb).toBeUndefined();
  });

  it('raises origin timeouts from config (up to the 180 s quota)', () => {
    const raised = one(synthEdge({ edge: { cloudfront: { originReadTimeoutSeconds: 180, originKeepaliveTimeoutSeconds: 120 } } }).parsed, 'aws_cloudfront_distribution');
    expect(raised.origin[0].vpc_origin_config).toMatchObject({ origin_read_timeout: 180, origin_keepalive_timeout: 120 });
  });

  it('serves viewers over HTTPS only, with HTTP/2 and HTTP/3, IPv6 and compression', () => {
    expect(distribution).toMatchObject({ enabled: true, http_version: 'http2and3', is_ipv6_enabled: true, price_class: 'PriceClass_100' });
    for (const behaviour of behaviours(distribution)) {
      expect(behaviour.viewer_protocol_policy).toBe('redirect-to-https');
      expect(behaviour.compress).toBe(true);
    }
    expect(distribution.viewer_certificate).toEqual({ cloudfront_default_certificate: true });
  });

  it('does not cache the API and WebSocket (default behaviour) and forwards every viewer header but Host', () => {
    expect(distribution.default_cache_behavior).toMatchObject({
      cache_policy_id: MANAGED_CACHING_DISABLED,
      origin_request_policy_id: MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER,
      allowed_methods: ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'],
    });
  });

  it('caches the hashed frontend bundles under /assets/* for at least a day, and /extensions/* as the origin says', () => {
    const [assets, extensions] = distribution.ordered_cache_behavior;
    expect(assets.path_pattern).toBe('/assets/*');
    expect(extensions.path_pattern).toBe('/extensions/*');
    const policies = parsed.resource.aws_cloudfront_cache_policy;
    const policyOf = (behaviour: any) => policies[/aws_cloudfront_cache_policy\.([^.]+)\.id/.exec(behaviour.cache_policy_id)![1]];
    expect(policyOf(assets)).toMatchObject({ min_ttl: 86400 });
    expect(policyOf(extensions)).toMatchObject({ min_ttl: 0, default_ttl: 300 });
    for (const behaviour of [assets, extensions]) {
      expect(behaviour.allowed_methods).toEqual(['GET', 'HEAD']);
      // Only the origin header reaches the ALB on a miss (cookies, query strings and other headers do not).
      expect(behaviour.origin_request_policy_id).toBe(ref(parsed, 'aws_cloudfront_origin_request_policy', 'id'));
    }
  });

  it('never caches origin errors and adds security headers (HSTS, nosniff, framing, referrer)', () => {
    expect(distribution.custom_error_response.map((e: any) => [e.error_code, e.error_caching_min_ttl])).toEqual([[500, 0], [502, 0], [503, 0], [504, 0]]);
    const headers = one(parsed, 'aws_cloudfront_response_headers_policy').security_headers_config;
    expect(headers.strict_transport_security).toMatchObject({ access_control_max_age_sec: 31536000, include_subdomains: true, override: true });
    expect(headers.frame_options.frame_option).toBe('SAMEORIGIN');
    for (const behaviour of behaviours(distribution)) {
      expect(behaviour.response_headers_policy_id).toBe(ref(parsed, 'aws_cloudfront_response_headers_policy', 'id'));
    }
  });

  it('delivers standard logs (v2) from us-east-1 to the edge log bucket under cloudfront/', () => {
    expect(one(parsed, 'aws_cloudwatch_log_delivery_source')).toMatchObject({
      region: 'us-east-1',
      log_type: 'ACCESS_LOGS',
      resource_arn: ref(parsed, 'aws_cloudfront_distribution', 'arn'),
    });
    expect(one(parsed, 'aws_cloudwatch_log_delivery_destination')).toMatchObject({
      region: 'us-east-1',
      delivery_destination_configuration: [{ destination_resource_arn: `${ref(parsed, 'aws_s3_bucket', 'arn')}/cloudfront` }],
    });
    expect(one(parsed, 'aws_cloudwatch_log_delivery')).toMatchObject({ region: 'us-east-1', depends_on: [expect.stringMatching(/^aws_s3_bucket_policy\./)] });
  });

  it('writes logs to an SSE-S3, ACL-less, TLS-only bucket that only ELB and CloudFront log delivery may write', () => {
    expect(synth).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }],
    });
    expect(one(parsed, 'aws_s3_bucket_ownership_controls').rule.object_ownership).toBe('BucketOwnerEnforced');
    const statements = (Object.values(parsed.data.aws_iam_policy_document)[0] as any).statement;
    expect(statements.map((s: any) => s.sid)).toEqual(['DenyInsecureTransport', 'AllowAlbAccessLogs', 'AllowCloudFrontLogDelivery']);
    const alb = statements[1];
    expect(alb.actions).toEqual(['s3:PutObject']);
    expect(alb.resources[0]).toMatch(/\/alb\/AWSLogs\/\$\{data\.aws_caller_identity\.Account\.account_id\}\/\*$/);
    expect(alb.principals.map((p: any) => p.type)).toEqual(['Service', 'AWS']);
    const cloudfront = statements[2];
    expect(cloudfront.condition.map((c: any) => c.variable)).toEqual(['s3:x-amz-acl', 'aws:SourceAccount', 'aws:SourceArn']);
    expect(one(parsed, 'aws_s3_bucket_lifecycle_configuration').rule.map((r: any) => r.id)).toContain('expire-edge-logs');
  });

  it('uses only the ELB log-delivery service principal in regions opened after August 2022', () => {
    const newer = synthEdge({ region: 'ap-southeast-4' }).parsed;
    expect(newer.data.aws_elb_service_account).toBeUndefined();
    const statements = (Object.values(newer.data.aws_iam_policy_document)[0] as any).statement;
    expect(statements[1].principals).toEqual([{ type: 'Service', identifiers: ['logdelivery.elasticloadbalancing.amazonaws.com'] }]);
  });

  it('serves a custom domain with its us-east-1 certificate (SNI, TLS 1.2+)', () => {
    const custom = synthEdge({
      edge: { customDomain: { domainName: 'comfy.studio.example', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555' } },
    });
    expect(custom.synth).toHaveResourceWithProperties(CloudfrontDistribution, {
      aliases: ['comfy.studio.example'],
      viewer_certificate: {
        acm_certificate_arn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
        ssl_support_method: 'sni-only',
        minimum_protocol_version: 'TLSv1.2_2021',
      },
    });
    expect(custom.stack.outputs.publicHostname).toBe('comfy.studio.example');
    expect(custom.parsed.output.comfyui_url.value).toBe('https://comfy.studio.example');
  });
});

describe('EdgeStack: authentication', () => {
  const { synth, parsed } = synthEdge();

  it('is on by default: a published cloudfront-js-2.0 function associated with the KeyValueStore', () => {
    expect(synth).toHaveResourceWithProperties(CloudfrontFunction, {
      runtime: 'cloudfront-js-2.0',
      publish: true,
      key_value_store_associations: [ref(parsed, 'aws_cloudfront_key_value_store', 'arn')],
    });
    const code: string = one(parsed, 'aws_cloudfront_function').code;
    expect(code).toContain(`cf.kvs('${ref(parsed, 'aws_cloudfront_key_value_store', 'id')}')`);
    expect(code).toContain('Basic realm="ComfyUI"');
  });

  it('runs the function on viewer-request of every behaviour, cached ones included', () => {
    const distribution = one(parsed, 'aws_cloudfront_distribution');
    for (const behaviour of behaviours(distribution)) {
      expect(behaviour.function_association).toEqual([{ event_type: 'viewer-request', function_arn: ref(parsed, 'aws_cloudfront_function', 'arn') }]);
    }
  });

  it('writes no KeyValueStore key and no random secret: users and secrets stay out of Terraform state', () => {
    expect(parsed.resource.aws_cloudfrontkeyvaluestore_key).toBeUndefined();
    expect(parsed.data?.aws_secretsmanager_random_password).toBeUndefined();
  });

  it('forwards the origin header on cache misses of the cached behaviours too', () => {
    const distribution = one(parsed, 'aws_cloudfront_distribution');
    const policy = one(parsed, 'aws_cloudfront_origin_request_policy');
    expect(policy.headers_config).toEqual({ header_behavior: 'whitelist', headers: { items: ['x-comfyui-origin-verify'] } });
    for (const behaviour of distribution.ordered_cache_behavior) expect(behaviour.origin_request_policy_id).toBe(ref(parsed, 'aws_cloudfront_origin_request_policy', 'id'));
    expect(one(parsed, 'aws_cloudfront_function').code).toContain("const ORIGIN_HEADER = 'x-comfyui-origin-verify';");
  });

  it('renders the session lifetime into the function', () => {
    const code: string = one(synthEdge({ edge: { auth: { sessionHours: 2 } } }).parsed, 'aws_cloudfront_function').code;
    expect(code).toContain("const SESSION_SECONDS = Number('7200');");
  });

  it('uses the configured realm', () => {
    const code: string = one(synthEdge({ edge: { auth: { realm: 'Studio GPU' } } }).parsed, 'aws_cloudfront_function').code;
    expect(code).toContain('Basic realm="Studio GPU"');
  });

  it('can be turned off only with the acknowledgement: no function, no store, no association', () => {
    const open = synthEdge({ edge: { auth: { mode: 'none', acknowledgeUnauthenticated: true } } }).parsed;
    expect(open.resource.aws_cloudfront_function).toBeUndefined();
    expect(open.resource.aws_cloudfront_key_value_store).toBeUndefined();
    for (const behaviour of behaviours(one(open, 'aws_cloudfront_distribution'))) expect(behaviour.function_association).toBeUndefined();
    expect(() => synthEdge({ edge: { auth: { mode: 'none' } } })).toThrow(/edge\.auth\.acknowledgeUnauthenticated: must be true/);
  });

  it('refuses to build an open edge from unvalidated config', () => {
    const config = testConfig();
    const bad = { ...config, edge: { ...config.edge, auth: { ...config.edge.auth, mode: 'none' as const, acknowledgeUnauthenticated: false } } };
    expect(() => new EdgeStack(Testing.app(), 'edge', { config: bad, network: FAKE_NETWORK, cluster: FAKE_CLUSTER })).toThrow(/edge\.auth\.mode/);
  });
});

describe('EdgeStack: WAF', () => {
  it('in basic mode by default: a web ACL with the per-IP rate-based rule and the Known Bad Inputs group', () => {
    const { parsed } = synthEdge();
    const acl = one(parsed, 'aws_wafv2_web_acl');
    expect(acl).toMatchObject({ scope: 'CLOUDFRONT', region: 'us-east-1', default_action: { allow: {} } });
    expect(acl.rule).toEqual([
      expect.objectContaining({
        name: 'rate-limit-per-ip',
        action: { block: {} },
        statement: { rate_based_statement: { limit: 3000, evaluation_window_sec: 300, aggregate_key_type: 'IP' } },
      }),
      expect.objectContaining({ name: 'AWSManagedRulesKnownBadInputsRuleSet', override_action: { none: {} } }),
    ]);
    expect(one(parsed, 'aws_cloudfront_distribution').web_acl_id).toBe(ref(parsed, 'aws_wafv2_web_acl', 'arn'));
    expect(one(parsed, 'aws_cloudfront_distribution').is_ipv6_enabled).toBe(true);
  });

  it('follows edge.waf.rateLimit, and is absent when it is off (or without basic auth) and the WAF is off', () => {
    const tuned = one(synthEdge({ edge: { waf: { rateLimit: { requests: 500, windowSeconds: 60 } } } }).parsed, 'aws_wafv2_web_acl');
    expect(tuned.rule).toHaveLength(2);
    expect(tuned.rule[0].statement.rate_based_statement).toEqual({ limit: 500, evaluation_window_sec: 60, aggregate_key_type: 'IP' });
    for (const input of [{ edge: { waf: { rateLimit: { enabled: false } } } }, { edge: { auth: { mode: 'none' as const, acknowledgeUnauthenticated: true } } }]) {
      const { parsed } = synthEdge(input);
      expect(parsed.resource.aws_wafv2_web_acl).toBeUndefined();
      expect(one(parsed, 'aws_cloudfront_distribution').web_acl_id).toBeUndefined();
    }
  });

  it('when enabled: a CLOUDFRONT web ACL in us-east-1 attached to the distribution, managed groups in order', () => {
    const { synth, parsed } = synthEdge({ edge: { waf: { enabled: true } } });
    expect(synth).toHaveResourceWithProperties(Wafv2WebAcl, { scope: 'CLOUDFRONT', region: 'us-east-1', default_action: { allow: {} } });
    expect(one(parsed, 'aws_cloudfront_distribution').web_acl_id).toBe(ref(parsed, 'aws_wafv2_web_acl', 'arn'));
    const rules = one(parsed, 'aws_wafv2_web_acl').rule;
    expect(rules.map((r: any) => r.name)).toEqual(['rate-limit-per-ip', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesAmazonIpReputationList']);
    expect(rules.map((r: any) => r.priority)).toEqual([1, 2, 3, 4]);
    expect(rules[1].statement.managed_rule_group_statement.rule_action_override).toEqual([{ name: 'SizeRestrictions_BODY', action_to_use: { count: {} } }]);
    expect(parsed.resource.aws_wafv2_ip_set).toBeUndefined();
  });

  it('with an allow-list: blocks every other client address first', () => {
    const { parsed } = synthEdge({ edge: { waf: { enabled: true, allowCidrs: ['203.0.113.0/24', '198.51.100.0/24'], managedRuleGroups: [], rateLimit: { enabled: false } } } });
    expect(one(parsed, 'aws_wafv2_ip_set')).toMatchObject({ scope: 'CLOUDFRONT', region: 'us-east-1', addresses: ['203.0.113.0/24', '198.51.100.0/24'] });
    const [rule] = one(parsed, 'aws_wafv2_web_acl').rule;
    expect(rule).toMatchObject({ priority: 0, action: { block: {} } });
    expect(rule.statement.not_statement.statement.ip_set_reference_statement.arn).toBe(ref(parsed, 'aws_wafv2_ip_set', 'arn'));
  });

  it('with an allow-list: serves IPv4 only, so no IPv6 viewer slips past (or is locked out by) the IPv4 list', () => {
    const listed = synthEdge({ edge: { waf: { enabled: true, allowCidrs: ['203.0.113.0/24'] } } }).parsed;
    expect(one(listed, 'aws_cloudfront_distribution').is_ipv6_enabled).toBe(false);
    const unlisted = synthEdge({ edge: { waf: { enabled: true } } }).parsed;
    expect(one(unlisted, 'aws_cloudfront_distribution').is_ipv6_enabled).toBe(true);
  });
});

describe('EdgeStack: outputs', () => {
  it('exposes the target group, the ALB security group and the public hostname as typed outputs', () => {
    const { stack, parsed } = synthEdge();
    expect(parsed.output.target_group_arn.value).toBe(ref(parsed, 'aws_lb_target_group', 'arn'));
    expect(stack.outputs.targetGroupArn).toMatch(/TfToken/);
    expect(stack.outputs.albSecurityGroupId).toMatch(/TfToken/);
    expect(stack.outputs.publicHostname).toMatch(/TfToken/);
    expect(parsed.output.comfyui_url.value).toBe(`https://${ref(parsed, 'aws_cloudfront_distribution', 'domain_name')}`);
  });

  it('matches the reviewed snapshot (default config, wake path included)', () => {
    expect(synthEdge({}, { wake: true }).synth).toMatchSnapshot();
  });
});
