/**
 * The synth-time policy: a cdktf Aspect that checks every stack against the
 * platform's rules and adds one error annotation per finding, so
 * `app.synth()` (and therefore `make synth` / `cdktf synth`) fails with
 * messages like `[COMFY-S3-001] ... at comfyui-dev-storage/ModelsBucket/Bucket`.
 *
 * cdktf runs aspects per stack (aspects added to the App are not inherited),
 * so applyPlatformPolicy adds the aspect to every stack under the app.
 */
import { Annotations, App, Aspects, IAspect, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { OpenIngressException } from './allow-lists';
import { EksSecretsEncryptionRule } from './eks-rules';
import { IamOverbroadManagedPolicyRule, IamReadablePolicyRule, IamWildcardActionRule, IamWildcardResourceRule } from './iam-rules';
import { ImplicitLogGroupRule, LogGroupRetentionRule } from './log-rules';
import { acknowledgementFor, formatFinding, PolicyRule, RULE_ID } from './rule';
import { S3EncryptionRule, S3PublicAccessBlockRule, S3TlsOnlyRule } from './s3-rules';
import { OpenIngressRule } from './security-group-rules';
import { StackView } from './stack-view';
import { RequiredTagsRule } from './tag-rules';

/** Options of the default rule set. */
export interface PlatformRulesProps {
  /** Security group ingress exceptions; default OPEN_INGRESS_ALLOW_LIST. */
  readonly openIngressAllowList?: readonly OpenIngressException[];
}

/** Every rule of the platform, in report order. */
export function platformRules(props: PlatformRulesProps = {}): PolicyRule[] {
  return [
    new S3PublicAccessBlockRule(),
    new S3EncryptionRule(),
    new S3TlsOnlyRule(),
    new OpenIngressRule({ allowList: props.openIngressAllowList }),
    new IamWildcardActionRule(),
    new IamWildcardResourceRule(),
    new IamOverbroadManagedPolicyRule(),
    new IamReadablePolicyRule(),
    new EksSecretsEncryptionRule(),
    new LogGroupRetentionRule(),
    new ImplicitLogGroupRule(),
    new RequiredTagsRule(),
  ];
}

export interface PlatformPolicyProps {
  /** Rules to check; default platformRules(). */
  readonly rules?: readonly PolicyRule[];
}

/** Messages already added per construct: aspects run again at every synth (Testing.synth, app.synth), annotations must not pile up. */
const reported = new WeakMap<IConstruct, Set<string>>();

function annotateOnce(construct: IConstruct, level: 'error' | 'info', message: string): void {
  const seen = reported.get(construct) ?? new Set<string>();
  reported.set(construct, seen);
  if (seen.has(`${level}:${message}`)) return;
  seen.add(`${level}:${message}`);
  if (level === 'error') Annotations.of(construct).addError(message);
  else Annotations.of(construct).addInfo(message);
}

export class PlatformPolicy implements IAspect {
  /** The rules this aspect checks. */
  public readonly rules: readonly PolicyRule[];

  constructor(props: PlatformPolicyProps = {}) {
    this.rules = props.rules ?? platformRules();
    const ids = new Set<string>();
    for (const rule of this.rules) {
      if (!RULE_ID.test(rule.id)) throw new Error(`policy rule id ${JSON.stringify(rule.id)} must look like COMFY-S3-001`);
      if (ids.has(rule.id)) throw new Error(`policy rule id ${rule.id} is used twice`);
      ids.add(rule.id);
    }
  }

  public visit(node: IConstruct): void {
    // Rules need the whole stack (a bucket and its companions), so they run once, at the stack node.
    if (!TerraformStack.isStack(node)) return;
    const view = new StackView(node);
    for (const rule of this.rules) {
      for (const finding of rule.check(view)) {
        const acknowledged = acknowledgementFor(finding.construct, rule.id);
        if (acknowledged) annotateOnce(finding.construct, 'info', `${formatFinding(rule.id, finding)} (acknowledged: ${acknowledged})`);
        else annotateOnce(finding.construct, 'error', formatFinding(rule.id, finding));
      }
    }
  }
}

/** Adds the platform policy to every stack under `app`; call it after all stacks exist. */
export function applyPlatformPolicy(app: App, props: PlatformPolicyProps = {}): PlatformPolicy {
  const policy = new PlatformPolicy(props);
  for (const stack of app.node.findAll().filter(TerraformStack.isStack)) Aspects.of(stack).add(policy);
  return policy;
}
