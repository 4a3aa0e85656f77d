/**
 * The customer-managed KMS key that envelope-encrypts Kubernetes secrets in
 * etcd. Rotation is on. The key policy delegates to IAM, so the cluster role's
 * own policy (EksControlPlane) is what grants EKS the use of it.
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Construct } from 'constructs';

export interface SecretsKeyProps {
  /** Alias, starting with `alias/`. */
  readonly alias: string;
  /** Account id (token) whose IAM policies may grant use of the key. */
  readonly accountId: string;
  /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`). */
  readonly partition: string;
}

export class SecretsKey extends Construct {
  /** The key. */
  public readonly key: KmsKey;
  /** The key ARN. */
  public readonly keyArn: string;

  constructor(scope: Construct, id: string, props: SecretsKeyProps) {
    super(scope, id);
    const policy = new DataAwsIamPolicyDocument(this, 'Policy', {
      statement: [
        {
          sid: 'DelegateToIam',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [`arn:${props.partition}:iam::${props.accountId}:root`] }],
          actions: ['kms:*'],
          resources: ['*'],
        },
      ],
    });
    this.key = new KmsKey(this, 'Key', {
      description: `Envelope encryption of Kubernetes secrets (${props.alias})`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policy.json,
    });
    new KmsAlias(this, 'Alias', { name: props.alias, targetKeyId: this.key.keyId });
    this.keyArn = this.key.arn;
  }
}
