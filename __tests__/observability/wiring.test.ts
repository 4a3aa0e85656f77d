/**
 * The whole platform synthesized once: every name the observability stack
 * watches is a cross-stack reference to the resource that owns it (typed
 * metricSources -> Terraform outputs -> remote state), never a string
 * rebuilt from config.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Testing } from 'cdktf';
import { buildPlatform } from '../../stacks/app';
import { testConfig } from '../helpers/config';

const app = Testing.app();
const stacks = buildPlatform(app, testConfig());
app.synth();
const stack = (role: string) => JSON.parse(readFileSync(join(app.outdir, 'stacks', `comfyui-dev-${role}`, 'cdk.tf.json'), 'utf8'));
const observability = stack('observability');

/** The producer expression behind every remote-state output the observability stack reads. */
function producerExpressions(text: string): string[] {
  const refs = [...text.matchAll(/\$\{data\.terraform_remote_state\.cross-stack-reference-input-comfyui-dev-([a-z-]+)\.outputs\.([\w-]+)\}/g)];
  return [...new Set(refs.map((m) => `${m[1]}:${m[2]}`))].map((key) => {
    const [role, output] = key.split(':');
    return `${role} ${stack(role).output[output].value}`;
  });
}

describe('observability stack wiring (whole platform)', () => {
  it('is built from the other stacks’ metricSources objects', () => {
    const o = stacks.observability!;
    expect(o.platform.modelSync).toBe(stacks.modelSync.metricSources);
    expect(o.platform.interruptions).toBe(stacks.capacity.metricSources);
    expect(o.platform.edge).toMatchObject(stacks.edge.metricSources);
  });

  it('reads every watched name from the resource that owns it, through remote state', () => {
    const dashboardBody = Object.values<any>(observability.resource.aws_cloudwatch_dashboard)[0].dashboard_body;
    const expressions = producerExpressions(dashboardBody).join('\n');
    for (const pattern of [
      /^cluster \$\{aws_eks_cluster\.ControlPlane_Cluster_\w+\.name\}$/m,
      /^model-sync \$\{aws_sqs_queue\.Queue_\w+\.name\}$/m,
      /^model-sync \$\{aws_sqs_queue\.Queue_DeadLetterQueue_\w+\.name\}$/m,
      /^model-sync \$\{aws_lambda_function\.Function_\w+\.function_name\}$/m,
      /^model-sync \$\{aws_cloudwatch_event_rule\.NodeCommands_FailureRule_\w+\.name\}$/m,
      /^capacity \$\{aws_sqs_queue\.InterruptionQueue_\w+\.name\}$/m,
      /^capacity \$\{aws_cloudwatch_event_rule\.InterruptionQueue_Rule-spot_\w+\.name\}$/m,
      /^capacity \$\{aws_cloudwatch_event_rule\.InterruptionQueue_Rule-rebalance_\w+\.name\}$/m,
      /^edge \$\{aws_cloudfront_distribution\.Cdn_\w+\.id\}$/m,
      /^edge \$\{aws_lb\.Alb_\w+\.arn_suffix\}$/m,
      /^edge \$\{aws_lb_target_group\.Alb_TargetGroup_\w+\.arn_suffix\}$/m,
      /^edge \$\{aws_cloudfront_function\.Auth_\w+\.name\}$/m,
    ]) {
      expect(expressions).toMatch(pattern);
    }
  });

  it('alarms on the same resources', () => {
    const alarms = JSON.stringify(observability.resource.aws_cloudwatch_metric_alarm);
    const expressions = producerExpressions(alarms).join('\n');
    expect(expressions).toMatch(/^model-sync \$\{aws_sqs_queue\.Queue_DeadLetterQueue_\w+\.name\}$/m);
    expect(expressions).toMatch(/^capacity \$\{aws_cloudwatch_event_rule\.InterruptionQueue_Rule-spot_\w+\.name\}$/m);
    expect(expressions).toMatch(/^edge \$\{aws_cloudfront_distribution\.Cdn_\w+\.id\}$/m);
  });

  it('is left out when observability.enabled is false', () => {
    const other = Testing.app();
    expect(buildPlatform(other, testConfig({ observability: { enabled: false } })).observability).toBeUndefined();
  });
});
