/**
 * Network stack: the VPC every other stack runs in. Public subnets hold only
 * the NAT gateways; nodes, pods and the internal ALB live in the private
 * subnets, which carry the load balancer and Karpenter discovery tags. S3
 * traffic (model sync, image layers) bypasses NAT through a gateway endpoint,
 * and flow logs record all traffic. No dependencies.
 */
import { Construct } from 'constructs';
import { karpenterDiscoveryTag } from '../config';
import { S3GatewayEndpoint } from '../constructs/network/s3-gateway-endpoint';
import { TwoTierVpc } from '../constructs/network/two-tier-vpc';
import { VpcFlowLogs } from '../constructs/network/vpc-flow-logs';
import { NetworkOutputs } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export class NetworkStack extends PlatformStack {
  /** Typed outputs for the cluster, platform and edge stacks. */
  public readonly outputs: NetworkOutputs;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    const discovery = karpenterDiscoveryTag(config);

    const network = new TwoTierVpc(this, 'Vpc', {
      namePrefix: this.prefix,
      cidr: config.network.cidr,
      azCount: config.network.azCount,
      natGateways: config.network.natGateways,
      // The load balancer controller and Karpenter find subnets by these tags.
      publicSubnetTags: { 'kubernetes.io/role/elb': '1' },
      privateSubnetTags: { 'kubernetes.io/role/internal-elb': '1', [discovery.key]: discovery.value },
    });

    new S3GatewayEndpoint(this, 'S3Endpoint', {
      vpcId: network.vpc.id,
      region: config.region,
      routeTableIds: network.privateRouteTables.map((table) => table.id),
      name: `${this.prefix}-s3`,
    });

    new VpcFlowLogs(this, 'FlowLogs', {
      vpcId: network.vpc.id,
      namePrefix: this.prefix,
      retentionDays: config.network.flowLogRetentionDays,
      kmsKeyArn: config.network.flowLogKmsKeyArn,
      accountId: this.accountId,
      partition: this.partition,
      region: config.region,
    });

    this.outputs = {
      vpcId: network.vpc.id,
      vpcCidr: config.network.cidr,
      privateSubnetIds: network.privateSubnets.map((subnet) => subnet.id),
      publicSubnetIds: network.publicSubnets.map((subnet) => subnet.id),
      privateSubnetCidrs: network.privateSubnetCidrs,
      albSubnetIds: network.albSubnets.map((subnet) => subnet.id),
      albSubnetCidrs: network.albSubnetCidrs,
    };
  }
}
