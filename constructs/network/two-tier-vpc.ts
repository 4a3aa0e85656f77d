/**
 * A VPC with a public and a private subnet in each AZ: an internet gateway for
 * the public tier, NAT gateways (one per AZ, or a single shared one) for the
 * private tier, and one private route table per AZ so switching NAT modes only
 * changes routes. The default security group is emptied so nothing can use it
 * by accident.
 */
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { planSubnets } from './subnet-plan';

export interface TwoTierVpcProps {
  /** Name prefix of every resource (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** VPC CIDR block (/16 to /20). */
  readonly cidr: string;
  /** Number of availability zones (the first N available zones of the region). */
  readonly azCount: number;
  /** `per-az`: one NAT gateway per AZ (no cross-AZ dependency); `single`: one shared NAT gateway. */
  readonly natGateways: 'per-az' | 'single';
  /** Extra tags on the private subnets (load balancer and Karpenter discovery). */
  readonly privateSubnetTags?: Record<string, string>;
  /** Extra tags on the public subnets. */
  readonly publicSubnetTags?: Record<string, string>;
}

export class TwoTierVpc extends Construct {
  /** The VPC. */
  public readonly vpc: Vpc;
  /** Private subnets, index i in AZ i. */
  public readonly privateSubnets: Subnet[];
  /** Public subnets, index i in AZ i. */
  public readonly publicSubnets: Subnet[];
  /** CIDR blocks of the private subnets (literal strings, not tokens). */
  public readonly privateSubnetCidrs: string[];
  /** Load balancer subnets, index i in AZ i: the internal ALB alone (routes as the private subnet of the AZ). */
  public readonly albSubnets: Subnet[];
  /** CIDR blocks of the load balancer subnets (literal strings: the chart's NetworkPolicy admits them). */
  public readonly albSubnetCidrs: string[];
  /** Private route tables, one per AZ (gateway endpoints attach here). */
  public readonly privateRouteTables: RouteTable[];
  /** NAT gateways: one per AZ or a single one. */
  public readonly natGateways: NatGateway[];

  constructor(scope: Construct, id: string, props: TwoTierVpcProps) {
    super(scope, id);
    const name = (suffix: string) => ({ Name: `${props.namePrefix}-${suffix}` });
    const plan = planSubnets(props.cidr, props.azCount);
    this.privateSubnetCidrs = plan.privateCidrs;
    this.albSubnetCidrs = plan.albCidrs;

    const zones = new DataAwsAvailabilityZones(this, 'Zones', {
      state: 'available',
      // Local Zones and Wavelength Zones lack most instance types; keep to regular AZs.
      filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
    });
    const zone = (i: number) => Fn.element(zones.names, i);

    this.vpc = new Vpc(this, 'Vpc', {
      cidrBlock: props.cidr,
      // EKS needs both for node registration and private endpoint resolution.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: name('vpc'),
    });

    // No rules at all: every resource gets an explicit security group instead.
    new DefaultSecurityGroup(this, 'DefaultSecurityGroup', { vpcId: this.vpc.id, tags: name('default-unused') });

    const internetGateway = new InternetGateway(this, 'InternetGateway', { vpcId: this.vpc.id, tags: name('igw') });

    this.publicSubnets = plan.publicCidrs.map(
      (cidrBlock, i) =>
        new Subnet(this, `PublicSubnet${i}`, {
          vpcId: this.vpc.id,
          cidrBlock,
          availabilityZone: zone(i),
          // NAT gateways use Elastic IPs; nothing else here should get a public address implicitly.
          mapPublicIpOnLaunch: false,
          tags: { ...name(`public-${i}`), ...props.publicSubnetTags },
        }),
    );
    this.privateSubnets = plan.privateCidrs.map(
      (cidrBlock, i) =>
        new Subnet(this, `PrivateSubnet${i}`, {
          vpcId: this.vpc.id,
          cidrBlock,
          availabilityZone: zone(i),
          mapPublicIpOnLaunch: false,
          tags: { ...name(`private-${i}`), ...props.privateSubnetTags },
        }),
    );

    const publicRouteTable = new RouteTable(this, 'PublicRouteTable', { vpcId: this.vpc.id, tags: name('public') });
    new Route(this, 'PublicDefaultRoute', {
      routeTableId: publicRouteTable.id,
      destinationCidrBlock: '0.0.0.0/0',
      gatewayId: internetGateway.id,
    });
    this.publicSubnets.forEach(
      (subnet, i) => new RouteTableAssociation(this, `PublicRouteTableAssociation${i}`, { subnetId: subnet.id, routeTableId: publicRouteTable.id }),
    );

    const natCount = props.natGateways === 'single' ? 1 : props.azCount;
    this.natGateways = Array.from({ length: natCount }, (_, i) => {
      const eip = new Eip(this, `NatEip${i}`, { domain: 'vpc', tags: name(`nat-${i}`), dependsOn: [internetGateway] });
      return new NatGateway(this, `NatGateway${i}`, {
        allocationId: eip.allocationId,
        subnetId: this.publicSubnets[i].id,
        tags: name(`nat-${i}`),
        dependsOn: [internetGateway],
      });
    });

    this.privateRouteTables = this.privateSubnets.map((subnet, i) => {
      const table = new RouteTable(this, `PrivateRouteTable${i}`, { vpcId: this.vpc.id, tags: name(`private-${i}`) });
      new Route(this, `PrivateDefaultRoute${i}`, {
        routeTableId: table.id,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: this.natGateways[Math.min(i, natCount - 1)].id,
      });
      new RouteTableAssociation(this, `PrivateRouteTableAssociation${i}`, { subnetId: subnet.id, routeTableId: table.id });
      return table;
    });

    // No load balancer discovery tags: the Terraform-owned ALB names these subnets, nothing else is placed here.
    this.albSubnets = plan.albCidrs.map((cidrBlock, i) => {
      const albSubnet = new Subnet(this, `AlbSubnet${i}`, {
        vpcId: this.vpc.id,
        cidrBlock,
        availabilityZone: zone(i),
        mapPublicIpOnLaunch: false,
        tags: name(`alb-${i}`),
      });
      // Same routes as the AZ's private subnet (the ALB reaches Cognito through NAT in cognito mode).
      new RouteTableAssociation(this, `AlbRouteTableAssociation${i}`, { subnetId: albSubnet.id, routeTableId: this.privateRouteTables[i].id });
      return albSubnet;
    });
  }
}
