/**
 * The customer-managed KMS key that encrypts the data buckets (models,
 * outputs, inputs). Rotation is on; the key policy delegates to IAM, so each
 * role's own policy decides who may use it (least privilege lives there).
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Construct } from 'constructs';

export interface DataKeyProps {
  /** Alias, starting with `alias/`. */
  readonly alias: string;
  /** Account id (token) whose IAM policies may grant use of the key. */
  readonly accountId: string;
  /** AWS partition of the account ARN. */
  readonly partition: string;
  /** What the key encrypts (KMS description). Default: the data buckets. */
  readonly description?: string;
}

export class DataKey extends Construct {
  /** The key ARN. */
  public readonly keyArn: string;

  constructor(scope: Construct, id: string, props: DataKeyProps) {
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
    const key = new KmsKey(this, 'Key', {
      description: props.description ?? `Encrypts the platform's data buckets (${props.alias})`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policy.json,
    });
    new KmsAlias(this, 'Alias', { name: props.alias, targetKeyId: key.keyId });
    this.keyArn = key.arn;
  }
}
