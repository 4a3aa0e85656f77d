/**
 * Cluster administrators as access entries: one entry per IAM principal and an
 * AmazonEKSClusterAdminPolicy association with cluster scope. Construct ids
 * derive from the ARN, so adding or removing one principal never replaces the
 * others. Optionally the role running the deployment is added too (resolved
 * from the caller's session to its IAM role, since access entries do not take
 * sts assumed-role ARNs). The same construct grants read-only viewers
 * (AmazonEKSAdminViewPolicy: every object including Secrets, which a
 * `terraform plan` of a helm_release reads) to plan-only roles.
 */
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamSessionContext } from '@cdktf/provider-aws/lib/data-aws-iam-session-context';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association';
import { Construct } from 'constructs';

export interface ClusterAdminAccessProps {
  /** Cluster name (token). */
  readonly clusterName: string;
  /** IAM role or user ARNs to make cluster administrators. */
  readonly principalArns: string[];
  /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`). */
  readonly partition: string;
  /** Also make the IAM role (or user) running the deployment an administrator. */
  readonly includeDeployer?: boolean;
  /** EKS access policy associated with each entry. Default: AmazonEKSClusterAdminPolicy. */
  readonly accessPolicy?: 'AmazonEKSClusterAdminPolicy' | 'AmazonEKSAdminViewPolicy';
}

/** A stable, readable construct id for an IAM principal ARN. */
export function principalId(arn: string): string {
  return arn.replace(/^arn:[^:]+:(iam|sts)::/, '').replace(/[^A-Za-z0-9]+/g, '-');
}

export class ClusterAdminAccess extends Construct {
  /** The access entries, one per principal. */
  public readonly entries: EksAccessEntry[];

  constructor(scope: Construct, id: string, props: ClusterAdminAccessProps) {
    super(scope, id);
    const admins = props.principalArns.map((arn) => ({ key: principalId(arn), arn }));
    if (props.includeDeployer) {
      const caller = new DataAwsCallerIdentity(this, 'Deployer');
      const session = new DataAwsIamSessionContext(this, 'DeployerSession', { arn: caller.arn });
      admins.push({ key: 'deployer', arn: session.issuerArn });
    }
    this.entries = admins.map(({ key, arn: principalArn }) => {
      const entry = new EksAccessEntry(this, `Entry-${key}`, {
        clusterName: props.clusterName,
        principalArn,
        type: 'STANDARD',
      });
      new EksAccessPolicyAssociation(this, `Admin-${key}`, {
        clusterName: props.clusterName,
        principalArn: entry.principalArn,
        policyArn: `arn:${props.partition}:eks::aws:cluster-access-policy/${props.accessPolicy ?? 'AmazonEKSClusterAdminPolicy'}`,
        accessScope: { type: 'cluster' },
      });
      return entry;
    });
  }
}
