import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Aspects, TerraformStack, Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import { PlatformPolicy, PlatformPolicyProps } from '../../constructs/policy';

export const REQUIRED_TAGS = { Project: 'comfyui', Environment: 'test', ManagedBy: 'cdktf' };

/** A stack named `bad` with a tagged AWS provider, ready for deliberately bad resources. */
export function policyStack(options: { defaultTags?: Record<string, string> | null } = {}): TerraformStack {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'bad');
  const tags = options.defaultTags === undefined ? REQUIRED_TAGS : options.defaultTags;
  new AwsProvider(stack, 'aws', { region: 'us-west-2', ...(tags ? { defaultTags: [{ tags }] } : {}) });
  return stack;
}

function annotations(scope: IConstruct, type: string): string[] {
  return scope.node
    .findAll()
    .flatMap((n) => n.node.metadata.filter((m) => m.type === type).map((m) => String(m.data)));
}

/** Error annotations after synthesizing the stack with the platform policy. */
export function policyErrors(stack: TerraformStack, props: PlatformPolicyProps = {}): string[] {
  Aspects.of(stack).add(new PlatformPolicy(props));
  Testing.synth(stack);
  return annotations(stack, '@cdktf/error');
}

/** Info annotations (acknowledged findings) of a synthesized scope. */
export function infoAnnotations(scope: IConstruct): string[] {
  return annotations(scope, '@cdktf/info');
}

/** Errors of one rule. */
export function ofRule(errors: string[], ruleId: string): string[] {
  return errors.filter((e) => e.startsWith(`[${ruleId}] `));
}
