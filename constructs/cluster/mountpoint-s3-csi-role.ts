/**
 * The Pod Identity role of the Mountpoint for Amazon S3 CSI driver
 * (driver-level credentials, service account `s3-csi-driver-sa` in
 * kube-system, as the add-on documents). It can mount only the buckets it is
 * given (outputs and inputs), never the models bucket, and use the data key
 * only through S3. Permissions follow Mountpoint's documented minimum: list
 * the bucket, read, write (sequential new files), abort uploads and delete.
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';
import { BucketRef } from '../../stacks/contracts';

/** Namespace and service account of the driver's node plugin (aws-mountpoint-s3-csi-driver add-on). */
export const S3_CSI_SERVICE_ACCOUNT = { namespace: 'kube-system', name: 's3-csi-driver-sa' } as const;

export interface MountpointS3CsiRoleProps {
  /** Role name. */
  readonly roleName: string;
  /** Cluster name (session tag condition). */
  readonly clusterName: string;
  /** Buckets the driver may mount. */
  readonly buckets: BucketRef[];
  /** KMS key encrypting those buckets. */
  readonly dataKeyArn: string;
  /** Account id (token). */
  readonly accountId: string;
  /** Region (KMS via-service condition). */
  readonly region: string;
}

export class MountpointS3CsiRole extends Construct {
  /** The role. */
  public readonly role: IamRole;

  constructor(scope: Construct, id: string, props: MountpointS3CsiRoleProps) {
    super(scope, id);
    const trust = new DataAwsIamPolicyDocument(this, 'TrustPolicy', {
      statement: [
        {
          sid: 'PodIdentityForTheS3CsiDriverOnly',
          effect: 'Allow',
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          principals: [{ type: 'Service', identifiers: ['pods.eks.amazonaws.com'] }],
          // Pod Identity session tags: only this service account of this cluster in this account.
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
            { test: 'StringEquals', variable: 'aws:RequestTag/eks-cluster-name', values: [props.clusterName] },
            { test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-namespace', values: [S3_CSI_SERVICE_ACCOUNT.namespace] },
            { test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-service-account', values: [S3_CSI_SERVICE_ACCOUNT.name] },
          ],
        },
      ],
    });
    this.role = new IamRole(this, 'Role', {
      name: props.roleName,
      description: 'Mountpoint for Amazon S3 CSI driver: mounts the outputs and inputs buckets',
      assumeRolePolicy: trust.json,
    });

    const access = new DataAwsIamPolicyDocument(this, 'AccessPolicy', {
      statement: [
        { sid: 'ListMountedBuckets', effect: 'Allow', actions: ['s3:ListBucket'], resources: props.buckets.map((b) => b.arn) },
        {
          sid: 'ReadWriteObjects',
          effect: 'Allow',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
          resources: props.buckets.map((b) => `${b.arn}/*`),
        },
        {
          sid: 'UseDataKeyThroughS3',
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.dataKeyArn],
          condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`s3.${props.region}.amazonaws.com`] }],
        },
      ],
    });
    new IamRolePolicy(this, 'Access', { name: 'mount-buckets', role: this.role.id, policy: access.json });
  }
}
