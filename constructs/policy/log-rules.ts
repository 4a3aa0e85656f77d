/**
 * CloudWatch log groups expire. A log group without retention keeps (and
 * bills) logs forever; so does one AWS creates implicitly for a Lambda
 * function or for EKS control-plane logs when Terraform does not own it.
 */
import { PolicyFinding, PolicyRule } from './rule';
import { blocks, StackView, strings } from './stack-view';

export class LogGroupRetentionRule implements PolicyRule {
  public readonly id = 'COMFY-LOG-001';
  public readonly summary = 'Every aws_cloudwatch_log_group sets retention_in_days (not 0, which means never expire).';

  public check(view: StackView): PolicyFinding[] {
    return view
      .resourcesOfType('aws_cloudwatch_log_group')
      .filter((g) => {
        const days = g.attributes.retention_in_days;
        return days === undefined || days === null || days === 0 || days === '0';
      })
      .map((g) => ({ construct: g.construct, message: 'log group has no retention_in_days, so its logs never expire: set retentionInDays from the config' }));
  }
}

export class ImplicitLogGroupRule implements PolicyRule {
  public readonly id = 'COMFY-LOG-002';
  public readonly summary = 'Lambda functions and EKS control-plane logging write to a log group Terraform creates (with retention), not one AWS creates implicitly.';

  public check(view: StackView): PolicyFinding[] {
    const names = new Set(view.resourcesOfType('aws_cloudwatch_log_group').map((g) => g.attributes.name).filter((n): n is string => typeof n === 'string'));
    const findings: PolicyFinding[] = [];
    // The log group may spell the name out or build it from the function's / cluster's own attribute.
    const owned = (literal: string, reference: string) => names.has(literal) || names.has(reference);
    for (const fn of view.resourcesOfType('aws_lambda_function')) {
      const custom = blocks(fn.attributes.logging_config).some((c) => typeof c.log_group === 'string' && c.log_group.length > 0);
      const implicitName = `/aws/lambda/${String(fn.attributes.function_name)}`;
      if (!custom && !owned(implicitName, `/aws/lambda/\${${fn.address}.function_name}`)) {
        findings.push({ construct: fn.construct, message: `Lambda function logs to ${implicitName}, which Terraform does not create: add that aws_cloudwatch_log_group with retention, or set loggingConfig.logGroup` });
      }
    }
    for (const cluster of view.resourcesOfType('aws_eks_cluster')) {
      if (strings(cluster.attributes.enabled_cluster_log_types).length === 0) continue;
      const implicitName = `/aws/eks/${String(cluster.attributes.name)}/cluster`;
      if (!owned(implicitName, `/aws/eks/\${${cluster.address}.name}/cluster`)) {
        findings.push({ construct: cluster.construct, message: `EKS control-plane logs go to ${implicitName}, which Terraform does not create: add that aws_cloudwatch_log_group with retention (and make the cluster depend on it)` });
      }
    }
    return findings;
  }
}
