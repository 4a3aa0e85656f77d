import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { TerraformOutput, Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { NetworkStack } from '../../stacks/network-stack';
import { testConfig } from '../helpers/config';
import { openIngressRules } from '../helpers/open-ingress';

function synthNetwork(input: ConfigInput = {}) {
  const stack = new NetworkStack(Testing.app(), 'network', { config: testConfig(input) });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}

const values = (parsed: any, type: string): any[] => Object.values(parsed.resource[type] ?? {});

describe('NetworkStack', () => {
  const { synth, parsed } = synthNetwork();

  it('creates the VPC from config with DNS support and hostnames (EKS needs both)', () => {
    expect(synth).toHaveResourceWithProperties(Vpc, { cidr_block: '10.2.0.0/16', enable_dns_support: true, enable_dns_hostnames: true });
  });

  it('creates a public and a private subnet per AZ, sized from the VPC block, never auto-assigning public IPs', () => {
    const subnets = values(parsed, 'aws_subnet');
    expect(subnets).toHaveLength(9);
    expect(subnets.map((s) => s.cidr_block).sort()).toEqual(
      ['10.2.0.0/18', '10.2.64.0/18', '10.2.128.0/18', '10.2.192.0/22', '10.2.196.0/22', '10.2.200.0/22', '10.2.224.0/24', '10.2.225.0/24', '10.2.226.0/24'].sort(),
    );
    expect(subnets.every((s) => s.map_public_ip_on_launch === false)).toBe(true);
    expect(new Set(subnets.map((s) => s.availability_zone)).size).toBe(3);
  });

  it('tags private subnets for internal load balancers and Karpenter discovery, public ones for internet-facing ones', () => {
    const privates = values(parsed, 'aws_subnet').filter((s) => s.tags.Name.includes('private'));
    expect(privates).toHaveLength(3);
    for (const subnet of privates) {
      expect(subnet.tags).toMatchObject({ 'kubernetes.io/role/internal-elb': '1', 'karpenter.sh/discovery': 'comfyui-dev' });
      expect(subnet.tags['kubernetes.io/role/elb']).toBeUndefined();
    }
    expect(synth).toHaveResourceWithProperties(Subnet, { cidr_block: '10.2.192.0/22', tags: expect.objectContaining({ 'kubernetes.io/role/elb': '1' }) });
    const publics = values(parsed, 'aws_subnet').filter((s) => s.tags.Name.includes('public'));
    expect(publics.every((s) => s.tags['karpenter.sh/discovery'] === undefined)).toBe(true);
  });

  it('creates one NAT gateway per AZ by default, each private route table using its own', () => {
    expect(values(parsed, 'aws_nat_gateway')).toHaveLength(3);
    expect(values(parsed, 'aws_eip')).toHaveLength(3);
    const natRoutes = values(parsed, 'aws_route').filter((r) => r.nat_gateway_id);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id)).size).toBe(3);
  });

  it('creates a single NAT gateway shared by every private route table when configured', () => {
    const single = synthNetwork({ network: { natGateways: 'single' } }).parsed;
    expect(values(single, 'aws_nat_gateway')).toHaveLength(1);
    expect(values(single, 'aws_eip')).toHaveLength(1);
    const natRoutes = values(single, 'aws_route').filter((r) => r.nat_gateway_id);
    expect(natRoutes).toHaveLength(3);
    expect(new Set(natRoutes.map((r) => r.nat_gateway_id)).size).toBe(1);
  });

  it('routes public subnets through the internet gateway and private subnets only through NAT', () => {
    const routes = values(parsed, 'aws_route');
    expect(routes.filter((r) => r.gateway_id?.includes('aws_internet_gateway'))).toHaveLength(1);
    // Private and load balancer subnets of an AZ share its private route table.
    expect(values(parsed, 'aws_route_table_association')).toHaveLength(9);
  });

  it('puts an S3 gateway endpoint on every private route table so model sync does not pay NAT', () => {
    expect(synth).toHaveResourceWithProperties(VpcEndpoint, { service_name: 'com.amazonaws.us-west-2.s3', vpc_endpoint_type: 'Gateway' });
    const [endpoint] = values(parsed, 'aws_vpc_endpoint');
    expect(endpoint.route_table_ids).toHaveLength(3);
    const privateTables = Object.entries<any>(parsed.resource.aws_route_table)
      .filter(([, t]) => t.tags.Name.includes('private'))
      .map(([name]) => `\${aws_route_table.${name}.id}`);
    expect([...endpoint.route_table_ids].sort()).toEqual(privateTables.sort());
  });

  it('logs all VPC traffic to a CloudWatch group with the configured retention', () => {
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/vpc/comfyui-dev/flow-logs', retention_in_days: 30 });
    expect(synth).toHaveResourceWithProperties(FlowLog, {
      traffic_type: 'ALL',
      log_destination_type: 'cloud-watch-logs',
      log_destination: expect.stringContaining('aws_cloudwatch_log_group.'),
      vpc_id: expect.stringContaining('aws_vpc.'),
    });
    const custom = synthNetwork({ network: { flowLogRetentionDays: 365, flowLogKmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:key/abcd-1234' } }).synth;
    expect(custom).toHaveResourceWithProperties(CloudwatchLogGroup, { retention_in_days: 365, kms_key_id: 'arn:aws:kms:us-west-2:111122223333:key/abcd-1234' });
  });

  it('lets the flow-log role write only to its own log group, and only the flow-logs service of this account assume it', () => {
    const docs = Object.values<any>(parsed.data.aws_iam_policy_document);
    const write = docs.find((d) => d.statement[0].sid === 'WriteFlowLogRecords').statement[0];
    expect(write.resources).toHaveLength(2);
    for (const resource of write.resources) expect(resource).toMatch(/^\$\{aws_cloudwatch_log_group\.[^}]+\.arn\}(:log-stream:\*)?$/);
    expect(write.actions).not.toContain('logs:CreateLogGroup');
    const statements = docs.find((d) => d.statement[0].sid === 'WriteFlowLogRecords').statement;
    const unscoped = statements.filter((st: any) => st.resources.includes('*'));
    expect(unscoped).toEqual([]);
    const describe = statements.find((st: any) => st.actions.includes('logs:DescribeLogGroups'));
    expect(describe.resources).toEqual([expect.stringMatching(/^arn:.*:logs:us-west-2:.*:log-group:\*$/)]);

    const trust = docs.find((d) => d.statement[0].principals?.[0].identifiers.includes('vpc-flow-logs.amazonaws.com')).statement[0];
    expect(trust.condition.map((c: any) => c.variable).sort()).toEqual(['aws:SourceAccount', 'aws:SourceArn']);
  });

  it('empties the default security group and has no rule open to the internet', () => {
    const [defaultSg] = values(parsed, 'aws_default_security_group');
    expect(defaultSg.ingress).toBeUndefined();
    expect(defaultSg.egress).toBeUndefined();
    expect(openIngressRules(parsed)).toEqual([]);
  });

  it('exposes the subnet CIDRs as literal values and ids as references', () => {
    const probe = new NetworkStack(Testing.app(), 'network', { config: testConfig() });
    expect(probe.outputs.privateSubnetCidrs).toEqual(['10.2.0.0/18', '10.2.64.0/18', '10.2.128.0/18']);
    expect(probe.outputs.vpcCidr).toBe('10.2.0.0/16');
    new TerraformOutput(probe, 'private_subnet_ids', { value: probe.outputs.privateSubnetIds });
    new TerraformOutput(probe, 'vpc_id', { value: probe.outputs.vpcId });
    const output = JSON.parse(Testing.synth(probe)).output;
    expect(output.private_subnet_ids.value).toEqual([0, 1, 2].map((i) => expect.stringMatching(new RegExp(`^\\$\\{aws_subnet\\.Vpc_PrivateSubnet${i}_[A-F0-9]+\\.id\\}$`))));
    expect(output.vpc_id.value).toMatch(/^\$\{aws_vpc\.[A-Za-z0-9_]+\.id\}$/);
  });

  it('matches the reviewed snapshot', () => {
    expect(synth).toMatchSnapshot();
  });
});
