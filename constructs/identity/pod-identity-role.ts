/**
 * An IAM role that exactly one Kubernetes service account of one cluster can
 * assume through EKS Pod Identity, its permissions as an inline policy, and
 * the Pod Identity association binding the two. The trust policy checks the
 * session tags Pod Identity sets (cluster, namespace, service account), so
 * another association in the account cannot borrow the role.
 */
import { DataAwsIamPolicyDocument, DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';

export interface PodIdentityRoleProps {
  /** IAM role name (at most 64 characters). */
  readonly roleName: string;
  /** What the role is for (IAM description). */
  readonly description: string;
  /** Account id (token) the Pod Identity service acts for. */
  readonly accountId: string;
  /** EKS cluster name. */
  readonly clusterName: string;
  /** Namespace of the service account. */
  readonly namespace: string;
  /** Service account name. */
  readonly serviceAccount: string;
  /** Statements of the role's inline policy. */
  readonly statements: DataAwsIamPolicyDocumentStatement[];
  /** Name of the inline policy. Default: permissions. */
  readonly policyName?: string;
  /** Create the Pod Identity association. Default: true; false when an EKS add-on associates the role itself. */
  readonly associate?: boolean;
}

export class PodIdentityRole extends Construct {
  /** The role. */
  public readonly role: IamRole;
  /** The role ARN. */
  public readonly roleArn: string;
  /** The association binding the service account to the role (unless `associate` is false). */
  public readonly association?: EksPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: PodIdentityRoleProps) {
    super(scope, id);
    const trust = new DataAwsIamPolicyDocument(this, 'Trust', {
      statement: [
        {
          sid: 'AllowEksPodIdentity',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['pods.eks.amazonaws.com'] }],
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
            { test: 'StringEquals', variable: 'aws:RequestTag/eks-cluster-name', values: [props.clusterName] },
            { test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-namespace', values: [props.namespace] },
            { test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-service-account', values: [props.serviceAccount] },
          ],
        },
      ],
    });
    this.role = new IamRole(this, 'Role', {
      name: props.roleName,
      description: props.description,
      assumeRolePolicy: trust.json,
      maxSessionDuration: 3600,
    });
    this.roleArn = this.role.arn;

    const permissions = new DataAwsIamPolicyDocument(this, 'Permissions', { statement: props.statements });
    new IamRolePolicy(this, 'Policy', { name: props.policyName ?? 'permissions', role: this.role.name, policy: permissions.json });

    if (props.associate ?? true) {
      this.association = new EksPodIdentityAssociation(this, 'Association', {
        clusterName: props.clusterName,
        namespace: props.namespace,
        serviceAccount: props.serviceAccount,
        roleArn: this.role.arn,
      });
    }
  }
}
