/**
 * An S3 gateway endpoint on the private route tables. Model sync copies
 * many gigabytes from S3 to every GPU node and ECR serves image layers from
 * S3; through the endpoint that traffic stays on the AWS network and pays no
 * NAT data-processing charge. Gateway endpoints themselves are free.
 */
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { Construct } from 'constructs';

export interface S3GatewayEndpointProps {
  /** VPC id. */
  readonly vpcId: string;
  /** Region of the VPC (the endpoint service is regional). */
  readonly region: string;
  /** Route tables that get the S3 prefix-list route (the private ones). */
  readonly routeTableIds: string[];
  /** Name tag. */
  readonly name: string;
}

export class S3GatewayEndpoint extends Construct {
  /** The endpoint. */
  public readonly endpoint: VpcEndpoint;

  constructor(scope: Construct, id: string, props: S3GatewayEndpointProps) {
    super(scope, id);
    this.endpoint = new VpcEndpoint(this, 'Endpoint', {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: props.routeTableIds,
      // The default (full access) policy: buckets and IAM roles carry the
      // restrictions, and ECR layer downloads go to AWS-owned buckets too.
      tags: { Name: props.name },
    });
  }
}
