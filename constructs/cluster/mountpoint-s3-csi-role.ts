/**
 * The Pod Identity role of the Mountpoint for Amazon S3 CSI driver
 * (driver-level credentials, service account `s3-csi-driver-sa` in
 * kube-system, as the add-on documents). It can mount only the buckets it is
 * given (outputs and inputs), never the models bucket, and use the data key
 * only through S3. Permissions follow Mountpoint's documented minimum: list
 * the bucket, read, and on writable buckets only write (sequential new
 * files), abort uploads and delete. A read-only bucket (inputs unless
 * app.inputsWritable) gets no write action, whatever the chart mounts.
 */
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { Construct } from 'constructs';
import { BucketRef } from '../../stacks/contracts';
import { PodIdentityRole } from '../identity/pod-identity-role';

/** Namespace and service account of the driver's node plugin (aws-mountpoint-s3-csi-driver add-on). */
export const S3_CSI_SERVICE_ACCOUNT = { namespace: 'kube-system', name: 's3-csi-driver-sa' } as const;

export interface MountpointS3CsiRoleProps {
  /** Role name. */
  readonly roleName: string;
  /** Cluster name (session tag condition). */
  readonly clusterName: string;
  /** Buckets the driver may mount and write. */
  readonly writableBuckets: BucketRef[];
  /** Buckets the driver may mount read-only. */
  readonly readOnlyBuckets: BucketRef[];
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
    const buckets = [...props.writableBuckets, ...props.readOnlyBuckets];
    const objects = (list: BucketRef[]) => list.map((b) => `${b.arn}/*`);
    // The add-on's pod_identity_association binds the role, so no association here.
    const identity = new PodIdentityRole(this, 'Identity', {
      roleName: props.roleName,
      description: 'Mountpoint for Amazon S3 CSI driver: mounts the outputs and inputs buckets',
      accountId: props.accountId,
      clusterName: props.clusterName,
      namespace: S3_CSI_SERVICE_ACCOUNT.namespace,
      serviceAccount: S3_CSI_SERVICE_ACCOUNT.name,
      policyName: 'mount-buckets',
      associate: false,
      statements: [
        { sid: 'ListMountedBuckets', effect: 'Allow', actions: ['s3:ListBucket'], resources: buckets.map((b) => b.arn) },
        { sid: 'ReadObjects', effect: 'Allow', actions: ['s3:GetObject'], resources: objects(buckets) },
        ...(props.writableBuckets.length > 0
          ? [{ sid: 'WriteObjects', effect: 'Allow', actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'], resources: objects(props.writableBuckets) }]
          : []),
        {
          sid: 'UseDataKeyThroughS3',
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.dataKeyArn],
          condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`s3.${props.region}.amazonaws.com`] }],
        },
      ],
    });
    this.role = identity.role;
  }
}
