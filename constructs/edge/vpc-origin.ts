/**
 * The CloudFront VPC origin that reaches the internal ALB without exposing it
 * to the internet, and the only ingress rule of the ALB's security group.
 *
 * CloudFront reaches a VPC origin through network interfaces it creates in
 * the VPC, carrying the service-managed security group
 * `CloudFront-VPCOrigins-Service-SG` (created with the first VPC origin in
 * the VPC). Allowing that group (the default) admits only CloudFront's VPC
 * origin interfaces; the alternative admits the CloudFront origin-facing
 * managed prefix list, which counts as ~55 rules against the security group
 * quota and matches every CloudFront distribution. Both are resolved by
 * Terraform at plan/apply time, never at synth.
 */
import { CloudfrontVpcOrigin } from '@cdktf/provider-aws/lib/cloudfront-vpc-origin';
import { DataAwsEc2ManagedPrefixList } from '@cdktf/provider-aws/lib/data-aws-ec2-managed-prefix-list';
import { DataAwsSecurityGroup } from '@cdktf/provider-aws/lib/data-aws-security-group';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Construct } from 'constructs';

/** Name of the security group CloudFront manages for VPC origins. */
export const VPC_ORIGIN_SERVICE_SECURITY_GROUP = 'CloudFront-VPCOrigins-Service-SG';
/** The CloudFront origin-facing managed prefix list. */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = 'com.amazonaws.global.cloudfront.origin-facing';

export interface AlbVpcOriginProps {
  /** Name of the VPC origin. */
  readonly name: string;
  /** ARN of the internal ALB. */
  readonly albArn: string;
  /** Security group of the ALB (gets the ingress rule). */
  readonly albSecurityGroupId: string;
  /** VPC of the ALB (where CloudFront creates its service security group). */
  readonly vpcId: string;
  /** `http` (port 80) or `https` (port 443) from CloudFront to the ALB. */
  readonly protocol: 'http' | 'https';
  /** What the ALB admits: the VPC-origin service security group or the origin-facing prefix list. */
  readonly allowFrom: 'vpc-origin-security-group' | 'cloudfront-prefix-list';
}

export class AlbVpcOrigin extends Construct {
  /** The VPC origin (its id goes into the distribution's origin). */
  public readonly vpcOrigin: CloudfrontVpcOrigin;
  /** The ALB's ingress rule. */
  public readonly ingress: VpcSecurityGroupIngressRule;

  constructor(scope: Construct, id: string, props: AlbVpcOriginProps) {
    super(scope, id);
    const port = props.protocol === 'https' ? 443 : 80;

    this.vpcOrigin = new CloudfrontVpcOrigin(this, 'VpcOrigin', {
      vpcOriginEndpointConfig: [
        {
          name: props.name,
          arn: props.albArn,
          httpPort: 80,
          httpsPort: 443,
          originProtocolPolicy: props.protocol === 'https' ? 'https-only' : 'http-only',
          // Required by the API even for http-only; only used for https.
          originSslProtocols: [{ items: ['TLSv1.2'], quantity: 1 }],
        },
      ],
    });

    const source =
      props.allowFrom === 'vpc-origin-security-group'
        ? {
            referencedSecurityGroupId: new DataAwsSecurityGroup(this, 'ServiceSecurityGroup', {
              filter: [
                { name: 'group-name', values: [VPC_ORIGIN_SERVICE_SECURITY_GROUP] },
                { name: 'vpc-id', values: [props.vpcId] },
              ],
              // CloudFront creates the group together with the first VPC origin in the VPC.
              dependsOn: [this.vpcOrigin],
            }).id,
          }
        : { prefixListId: new DataAwsEc2ManagedPrefixList(this, 'OriginFacing', { name: CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST }).id };

    this.ingress = new VpcSecurityGroupIngressRule(this, 'AlbFromCloudFront', {
      securityGroupId: props.albSecurityGroupId,
      description: `CloudFront VPC origin to the ALB listener (${props.protocol.toUpperCase()} ${port})`,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      ...source,
    });
  }
}
