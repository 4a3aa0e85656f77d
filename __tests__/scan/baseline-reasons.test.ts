/**
 * The baseline's reasons, checked against what the project synthesizes and
 * renders (issue 18): a suppression stays true only while its resource keeps
 * the property its reason states. Each entry whose reason says "Checked in
 * __tests__/scan/baseline-reasons.test.ts" has a case here, and a case here
 * fails when the resource changes in a way that voids the reason.
 */
import { Testing } from 'cdktf';
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { parseBaseline } from '../../scripts/scan/baseline';
import { StorageStack } from '../../stacks/storage-stack';
import { synthApp } from '../app/fixtures';
import { synthCapacity } from '../capacity/fixtures';
import { synthEdge } from '../edge/fixtures';
import { testConfig } from '../helpers/config';
import { FAKE_EDGE, FAKE_NETWORK } from '../helpers/fake-outputs';

const ROOT = join(__dirname, '..', '..');
const BASELINE = parseBaseline(readFileSync(join(ROOT, 'config', 'security-baseline.yaml'), 'utf8'));
const resources = (parsed: any, type: string): any[] => Object.values(parsed.resource?.[type] ?? {});
const documents = (parsed: any): [string, any][] => Object.entries(parsed.data?.aws_iam_policy_document ?? {});
const readOnly = (action: string) => /^[a-z0-9-]+:(Describe|Get|List)[A-Za-z0-9]*$/.test(action);

/** The reasons below, by `tool check`; each must exist in the baseline and cite this file. */
const CHECKED: Record<string, () => void> = {
  'checkov CKV_AWS_356': () => {
    // LB controller policy: "*" only for reads; the one change is target registration of the edge target group.
    const [, policy] = documents(synthCapacity().parsed).find(([id]) => id.includes('LoadBalancerController_Permissions'))!;
    for (const st of policy.statement.filter((s: any) => s.resources.includes('*'))) for (const a of st.actions) expect({ a, readOnly: readOnly(a) }).toEqual({ a, readOnly: true });
    const mutating = policy.statement.filter((s: any) => s.actions.some((a: string) => !readOnly(a)));
    expect(mutating.map((s: any) => ({ actions: s.actions, resources: s.resources }))).toEqual([
      { actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'], resources: [FAKE_EDGE.targetGroupArn] },
    ]);
  },
  'checkov CKV2_AWS_31': () => {
    // WAF logging: standard logs carry every request; every rule keeps samples and metrics.
    const { parsed } = synthEdge();
    expect(resources(parsed, 'aws_cloudwatch_log_delivery')).toHaveLength(1);
    expect(resources(parsed, 'aws_cloudwatch_log_delivery_source')[0].resource_arn).toMatch(/aws_cloudfront_distribution\./);
    for (const acl of resources(parsed, 'aws_wafv2_web_acl')) {
      for (const config of [acl.visibility_config, ...acl.rule.map((r: any) => r.visibility_config)]) {
        expect(config).toMatchObject({ sampled_requests_enabled: true, cloudwatch_metrics_enabled: true });
      }
    }
  },
  'checkov CKV2_AWS_47': () => {
    // Log4j: the attached web ACL runs the Known Bad Inputs group without overrides.
    const { parsed } = synthEdge();
    const [acl] = resources(parsed, 'aws_wafv2_web_acl');
    expect(resources(parsed, 'aws_cloudfront_distribution')[0].web_acl_id).toMatch(/^\$\{aws_wafv2_web_acl\.Waf_WebAcl_[A-F0-9]+\.arn\}$/);
    const group = acl.rule.find((r: any) => r.statement.managed_rule_group_statement?.name === 'AWSManagedRulesKnownBadInputsRuleSet');
    expect(group.override_action).toEqual({ none: {} });
    expect(group.statement.managed_rule_group_statement.rule_action_override).toEqual([]);
  },
  'checkov CKV_AWS_2': () => {
    // HTTP listener: internal ALB in its own subnets, one ingress rule from the VPC-origin group, 403 without the origin header.
    const { parsed } = synthEdge();
    const [alb] = resources(parsed, 'aws_lb');
    expect(alb.internal).toBe(true);
    expect(alb.subnets).toEqual(FAKE_NETWORK.albSubnetIds);
    const albIngress = resources(parsed, 'aws_vpc_security_group_ingress_rule').filter((r) => String(r.security_group_id).includes('Alb_SecurityGroup'));
    expect(albIngress).toHaveLength(1);
    expect(albIngress[0].referenced_security_group_id).toMatch(/data\.aws_security_group\.Origin_ServiceSecurityGroup/);
    expect(albIngress[0].cidr_ipv4).toBeUndefined();
    expect(resources(parsed, 'aws_lb_listener')[0].default_action).toEqual([expect.objectContaining({ type: 'fixed-response', fixed_response: expect.objectContaining({ status_code: '403' }) })]);
  },
  'checkov CKV_AWS_378': () => {
    // Target group over HTTP: the chart's NetworkPolicy admits only the load balancer subnets, none of the node/pod subnets.
    const values = synthApp().parsed.output.chart_values.value;
    expect(values.networkPolicy).toEqual({ enabled: true, ingressCidrs: FAKE_NETWORK.albSubnetCidrs });
    for (const cidr of FAKE_NETWORK.privateSubnetCidrs) expect(values.networkPolicy.ingressCidrs).not.toContain(cidr);
  },
  'checkov CKV_K8S_43': () => {
    // Image digests: every container runs the ComfyUI image by default (immutable tags in ECR); another
    // video-sync image is accepted only with a digest (schema; rendering: __tests__/chart/hardening.test.ts).
    const schema = JSON.parse(readFileSync(join(ROOT, 'charts', 'comfyui', 'values.schema.json'), 'utf8'));
    const image = schema.properties.videoSync.properties.image;
    expect(image.if).toEqual({ properties: { repository: { minLength: 1 } }, required: ['repository'] });
    expect(image.then.required).toEqual(['digest']);
    expect(image.properties.digest.pattern).toBe('^$|^sha256:[a-f0-9]{64}$');
    expect(parse(readFileSync(join(ROOT, 'charts', 'comfyui', 'values.yaml'), 'utf8')).videoSync.image.repository).toBe('');
    expect(resources(synthApp().parsed, 'aws_ecr_repository').map((r) => r.image_tag_mutability)).toEqual(['IMMUTABLE']);
  },
  'checkov CKV_K8S_15': () => CHECKED['checkov CKV_K8S_43'](),
  'checkov CKV_AWS_21': () => {
    // Log buckets: only the delivery services may write, and a lifecycle rule expires the logs.
    const storage = JSON.parse(Testing.synth(new StorageStack(Testing.app(), 'storage', { config: testConfig() })));
    const edge = synthEdge().parsed;
    for (const [parsed, bucketFragment] of [
      [storage, 'LogsBucket'],
      [edge, 'Logs_Bucket'],
    ] as const) {
      const writers = documents(parsed)
        .filter(([id]) => id.includes(bucketFragment))
        .flatMap(([, d]) => d.statement)
        .filter((s: any) => s.effect !== 'Deny' && s.actions.some((a: string) => /^s3:(Put|Delete)/.test(a)));
      expect(writers.length).toBeGreaterThan(0);
      for (const w of writers) {
        for (const p of w.principals) expect({ p: p.identifiers, service: p.type === 'Service' || /aws_elb_service_account/.test(p.identifiers.join()) }).toEqual({ p: p.identifiers, service: true });
      }
      const lifecycle = resources(parsed, 'aws_s3_bucket_lifecycle_configuration').filter((l) => String(l.bucket).includes(bucketFragment));
      expect(lifecycle.flatMap((l) => l.rule).some((r: any) => r.expiration?.[0]?.days > 0 && r.status === 'Enabled')).toBe(true);
    }
  },
};

describe('baseline reasons stay true', () => {
  it('every entry citing this file has a check here, and every check here has its entry', () => {
    const citing = BASELINE.suppressions.filter((e) => e.reason.includes('baseline-reasons.test.ts')).map((e) => `${e.tool} ${e.check}`);
    expect([...new Set(citing)].sort()).toEqual(Object.keys(CHECKED).sort());
  });

  it.each(Object.keys(CHECKED))('%s', (key) => CHECKED[key]());
});
