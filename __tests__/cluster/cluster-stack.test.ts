import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { Ec2Tag } from '@cdktf/provider-aws/lib/ec2-tag';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association';
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { TerraformOutput, Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { ClusterStack } from '../../stacks/cluster-stack';
import { testConfig } from '../helpers/config';
import { openIngressRules } from '../helpers/open-ingress';
import { FAKE_NETWORK, FAKE_STORAGE } from './fixtures';

const ADMIN_A = 'arn:aws:iam::111122223333:role/platform-admins';
const ADMIN_B = 'arn:aws:iam::111122223333:user/alice';

function synthCluster(input: ConfigInput = {}) {
  const stack = new ClusterStack(Testing.app(), 'cluster', { config: testConfig(input), network: FAKE_NETWORK, storage: FAKE_STORAGE });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}

const entries = (parsed: any, type: string): [string, any][] => Object.entries(parsed.resource[type] ?? {});
const values = (parsed: any, type: string): any[] => Object.values(parsed.resource[type] ?? {});
const ref = (type: string, name: string, attr: string) => `\${${type}.${name}.${attr}}`;
const policyDoc = (parsed: any, sid: string) =>
  Object.values<any>(parsed.data.aws_iam_policy_document).find((d) => d.statement.some((s: any) => s.sid === sid));
const addon = (parsed: any, name: string) => values(parsed, 'aws_eks_addon').find((a) => a.addon_name === name);
const warnings = (stack: ClusterStack) =>
  JSON.stringify(
    stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === '@cdktf/warn'),
  );

describe('ClusterStack with the default config', () => {
  const { stack, synth, parsed } = synthCluster();
  const [[clusterName, cluster]] = entries(parsed, 'aws_eks_cluster');
  const [[keyName]] = entries(parsed, 'aws_kms_key');

  it('runs the Kubernetes version from config in the private subnets', () => {
    expect(synth).toHaveResourceWithProperties(EksCluster, { name: 'comfyui-dev', version: '1.35' });
    expect(cluster.vpc_config.subnet_ids).toEqual(FAKE_NETWORK.privateSubnetIds);
  });

  it('envelope-encrypts secrets with its own customer-managed key, which rotates', () => {
    expect(cluster.encryption_config).toEqual({ resources: ['secrets'], provider: { key_arn: ref('aws_kms_key', keyName, 'arn') } });
    expect(synth).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true, deletion_window_in_days: 30 });
    const keyUse = policyDoc(parsed, 'EncryptKubernetesSecrets').statement[0];
    expect(keyUse.resources).toEqual([ref('aws_kms_key', keyName, 'arn')]);
  });

  it('authenticates through access entries only and gives the creator no implicit admin', () => {
    expect(cluster.access_config).toEqual({ authentication_mode: 'API', bootstrap_cluster_creator_admin_permissions: false });
    expect(cluster.bootstrap_self_managed_addons).toBe(false);
  });

  it('keeps the private endpoint on and the public one open to the configured CIDRs, with a warning for 0.0.0.0/0', () => {
    expect(cluster.vpc_config).toMatchObject({ endpoint_private_access: true, endpoint_public_access: true, public_access_cidrs: ['0.0.0.0/0'] });
    expect(warnings(stack)).toContain('cluster.publicAccessCidrs allows 0.0.0.0/0');
  });

  it('ships every control-plane log type to a log group it creates first, with the configured retention', () => {
    expect(cluster.enabled_cluster_log_types).toEqual(['api', 'audit', 'authenticator', 'controllerManager', 'scheduler']);
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/eks/comfyui-dev/cluster', retention_in_days: 30 });
    const [[logGroupName]] = entries(parsed, 'aws_cloudwatch_log_group');
    expect(cluster.depends_on).toContain(`aws_cloudwatch_log_group.${logGroupName}`);
  });

  it('gives only the deploying role an admin access entry by default', () => {
    expect(values(parsed, 'aws_eks_access_entry').map((e) => e.principal_arn)).toEqual([expect.stringMatching(/issuer_arn/)]);
    expect(warnings(stack)).not.toContain('No cluster administrators');
  });

  it('creates no access entry when no admin is configured, and warns that nobody can reach the API', () => {
    const none = synthCluster({ cluster: { grantDeployerAdmin: false } });
    expect(none.parsed.resource.aws_eks_access_entry).toBeUndefined();
    expect(warnings(none.stack)).toContain('No cluster administrators');
  });

  it('installs every add-on at the pinned version', () => {
    const versions = Object.fromEntries(values(parsed, 'aws_eks_addon').map((a) => [a.addon_name, a.addon_version]));
    expect(versions).toEqual({
      'vpc-cni': 'v1.23.0-eksbuild.1',
      'kube-proxy': 'v1.35.3-eksbuild.18',
      coredns: 'v1.14.3-eksbuild.3',
      'eks-pod-identity-agent': 'v1.3.10-eksbuild.3',
      'aws-mountpoint-s3-csi-driver': 'v2.7.0-eksbuild.1',
    });
    expect(values(parsed, 'aws_eks_addon').every((a) => a.resolve_conflicts_on_update === 'OVERWRITE')).toBe(true);
  });

  it('enables network-policy enforcement in the VPC CNI', () => {
    expect(JSON.parse(addon(parsed, 'vpc-cni').configuration_values)).toEqual({ enableNetworkPolicy: 'true' });
    expect(synth).toHaveResourceWithProperties(EksAddon, { addon_name: 'vpc-cni', configuration_values: '{"enableNetworkPolicy":"true"}' });
  });

  it('starts nodes after the networking add-ons and the Deployments-bearing add-ons after the nodes', () => {
    const [[nodeGroupName, nodeGroup]] = entries(parsed, 'aws_eks_node_group');
    const addonRef = (name: string) => `aws_eks_addon.${entries(parsed, 'aws_eks_addon').find(([, a]) => a.addon_name === name)![0]}`;
    expect(nodeGroup.depends_on).toEqual(expect.arrayContaining([addonRef('vpc-cni'), addonRef('kube-proxy'), addonRef('eks-pod-identity-agent')]));
    expect(addon(parsed, 'coredns').depends_on).toContain(`aws_eks_node_group.${nodeGroupName}`);
    expect(addon(parsed, 'aws-mountpoint-s3-csi-driver').depends_on).toEqual(
      expect.arrayContaining([`aws_eks_node_group.${nodeGroupName}`, addonRef('eks-pod-identity-agent')]),
    );
  });

  it('keeps CoreDNS and the S3 CSI controller on the tainted system nodes', () => {
    const toleration = { key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' };
    expect(JSON.parse(addon(parsed, 'coredns').configuration_values)).toEqual({ nodeSelector: { 'node-role': 'system' }, tolerations: [toleration] });
    const s3Csi = JSON.parse(addon(parsed, 'aws-mountpoint-s3-csi-driver').configuration_values);
    expect(s3Csi).toEqual({ node: { tolerateAllTaints: true }, controller: { tolerations: [toleration] } });
  });

  it.each([
    [false, []],
    [true, ['inputs']],
  ])('lets the S3 CSI driver write the inputs bucket only when app.inputsWritable is %s', (inputsWritable, writableInputs) => {
    const access = policyDoc(synthCluster({ app: { inputsWritable } }).parsed, 'ReadObjects').statement;
    const writes = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'];
    const writable = access.filter((s: any) => s.actions.some((a: string) => writes.includes(a))).flatMap((s: any) => s.resources);
    const readable = access.filter((s: any) => s.actions.includes('s3:GetObject')).flatMap((s: any) => s.resources);
    expect(writable.sort()).toEqual([`${FAKE_STORAGE.outputsBucket.arn}/*`, ...writableInputs.map(() => `${FAKE_STORAGE.inputsBucket.arn}/*`)].sort());
    expect(readable.sort()).toEqual([`${FAKE_STORAGE.outputsBucket.arn}/*`, `${FAKE_STORAGE.inputsBucket.arn}/*`].sort());
  });

  it('gives the S3 CSI driver a Pod Identity role limited to the outputs and inputs buckets', () => {
    const [[roleName]] = entries(parsed, 'aws_iam_role').filter(([, r]) => r.name === 'comfyui-dev-s3-csi');
    expect(addon(parsed, 'aws-mountpoint-s3-csi-driver').pod_identity_association).toEqual([
      { service_account: 's3-csi-driver-sa', role_arn: ref('aws_iam_role', roleName, 'arn') },
    ]);
    const access = policyDoc(parsed, 'ReadObjects').statement;
    const resources = access.flatMap((s: any) => s.resources);
    expect(resources.sort()).toEqual(
      [
        FAKE_STORAGE.outputsBucket.arn,
        FAKE_STORAGE.inputsBucket.arn,
        `${FAKE_STORAGE.outputsBucket.arn}/*`,
        `${FAKE_STORAGE.outputsBucket.arn}/*`,
        `${FAKE_STORAGE.inputsBucket.arn}/*`,
        FAKE_STORAGE.dataKeyArn,
      ].sort(),
    );
    expect(JSON.stringify(access)).not.toContain('models');
    expect(access.flatMap((s: any) => s.actions)).not.toContain('s3:*');
    const kms = access.find((s: any) => s.sid === 'UseDataKeyThroughS3');
    expect(kms.condition).toEqual([{ test: 'StringEquals', variable: 'kms:ViaService', values: ['s3.us-west-2.amazonaws.com'] }]);

    const trust = policyDoc(parsed, 'AllowEksPodIdentity').statement[0];
    expect(trust.principals).toEqual([{ type: 'Service', identifiers: ['pods.eks.amazonaws.com'] }]);
    expect(Object.fromEntries(trust.condition.map((c: any) => [c.variable, c.values]))).toMatchObject({
      'aws:RequestTag/eks-cluster-name': ['comfyui-dev'],
      'aws:RequestTag/kubernetes-namespace': ['kube-system'],
      'aws:RequestTag/kubernetes-service-account': ['s3-csi-driver-sa'],
    });
  });

  it('launches system nodes with IMDSv2 required, hop limit 1 and an encrypted gp3 root volume', () => {
    expect(synth).toHaveResourceWithProperties(LaunchTemplate, {
      metadata_options: { http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 },
      block_device_mappings: [{ device_name: '/dev/xvda', ebs: { volume_size: 50, volume_type: 'gp3', encrypted: 'true', delete_on_termination: 'true' } }],
    });
    const [lt] = values(parsed, 'aws_launch_template');
    expect(lt.tag_specifications.map((t: any) => t.resource_type)).toEqual(['instance', 'volume', 'network-interface']);
    expect(lt.tag_specifications[0].tags).toMatchObject({ Project: 'comfyui', Environment: 'dev', Name: 'comfyui-dev-system' });
  });

  it('runs an on-demand AL2023 system node group, labelled and tainted for controllers only', () => {
    expect(synth).toHaveResourceWithProperties(EksNodeGroup, {
      ami_type: 'AL2023_x86_64_STANDARD',
      capacity_type: 'ON_DEMAND',
      instance_types: ['m7i.large', 'm6i.large'],
      scaling_config: { min_size: 2, desired_size: 2, max_size: 4 },
      labels: { 'node-role': 'system' },
      taint: [{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NO_SCHEDULE' }],
      node_repair_config: { enabled: true },
    });
  });

  it('gives system nodes the worker, CNI, ECR pull and SSM policies and nothing else', () => {
    const [[nodeRoleName]] = entries(parsed, 'aws_iam_role').filter(([, r]) => r.name === 'comfyui-dev-system');
    const attached = values(parsed, 'aws_iam_role_policy_attachment')
      .filter((a) => a.role === ref('aws_iam_role', nodeRoleName, 'name'))
      .map((a) => a.policy_arn.replace(/^.*policy\//, ''));
    expect(attached.sort()).toEqual(['AmazonEC2ContainerRegistryPullOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonSSMManagedInstanceCore']);
  });

  it('attaches the cluster and the node security groups to system nodes and tags both for Karpenter', () => {
    const [[sgName]] = entries(parsed, 'aws_security_group');
    const [lt] = values(parsed, 'aws_launch_template');
    expect(lt.vpc_security_group_ids).toEqual([ref('aws_eks_cluster', clusterName, 'vpc_config[0].cluster_security_group_id'), ref('aws_security_group', sgName, 'id')]);
    expect(synth).toHaveResourceWithProperties(SecurityGroup, { vpc_id: FAKE_NETWORK.vpcId, tags: expect.objectContaining({ 'karpenter.sh/discovery': 'comfyui-dev' }) });
    expect(synth).toHaveResourceWithProperties(Ec2Tag, {
      resource_id: ref('aws_eks_cluster', clusterName, 'vpc_config[0].cluster_security_group_id'),
      key: 'karpenter.sh/discovery',
      value: 'comfyui-dev',
    });
  });

  it('allows no ingress from the internet: only node-to-node and control-plane traffic', () => {
    expect(openIngressRules(parsed)).toEqual([]);
    const ingress = values(parsed, 'aws_vpc_security_group_ingress_rule');
    expect(ingress.every((r) => r.referenced_security_group_id && !r.cidr_ipv4)).toBe(true);
  });

  it('exposes the outputs the later stacks need as references to its resources', () => {
    const probe = new ClusterStack(Testing.app(), 'cluster', { config: testConfig(), network: FAKE_NETWORK, storage: FAKE_STORAGE });
    for (const [key, value] of Object.entries(probe.outputs)) new TerraformOutput(probe, key, { value });
    const output = JSON.parse(Testing.synth(probe)).output;
    const got = Object.fromEntries(Object.entries<any>(output).map(([k, v]) => [k, v.value]));
    expect(got).toEqual({
      clusterName: expect.stringMatching(/^\$\{aws_eks_cluster\.\w+\.name\}$/),
      clusterArn: expect.stringMatching(/^\$\{aws_eks_cluster\.\w+\.arn\}$/),
      endpoint: expect.stringMatching(/^\$\{aws_eks_cluster\.\w+\.endpoint\}$/),
      certificateAuthorityData: expect.stringMatching(/^\$\{aws_eks_cluster\.\w+\.certificate_authority\[0\]\.data\}$/),
      clusterSecurityGroupId: expect.stringMatching(/^\$\{aws_eks_cluster\.\w+\.vpc_config\[0\]\.cluster_security_group_id\}$/),
      nodeSecurityGroupId: expect.stringMatching(/^\$\{aws_security_group\.\w+\.id\}$/),
      systemNodeRoleArn: expect.stringMatching(/^\$\{aws_iam_role\.SystemNodes_Role_\w+\.arn\}$/),
    });
  });

  it('matches the reviewed snapshot', () => {
    expect(synth).toMatchSnapshot();
  });
});

describe('ClusterStack with two admin principals', () => {
  const { stack, parsed } = synthCluster({ cluster: { adminPrincipalArns: [ADMIN_A, ADMIN_B], grantDeployerAdmin: false } });

  it('creates one standard access entry per principal', () => {
    const accessEntries = values(parsed, 'aws_eks_access_entry');
    expect(accessEntries.map((e) => e.principal_arn).sort()).toEqual([ADMIN_A, ADMIN_B].sort());
    expect(accessEntries.every((e) => e.type === 'STANDARD')).toBe(true);
  });

  it('associates AmazonEKSClusterAdminPolicy with cluster scope to each entry', () => {
    const associations = entries(parsed, 'aws_eks_access_policy_association');
    expect(associations).toHaveLength(2);
    for (const [, association] of associations) {
      expect(association.policy_arn).toBe('arn:${data.aws_partition.Partition.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy');
      expect(association.access_scope).toEqual({ type: 'cluster' });
      expect(association.principal_arn).toMatch(/^\$\{aws_eks_access_entry\.[\w-]+\.principal_arn\}$/);
    }
    expect(Testing.synth(stack)).toHaveResourceWithProperties(EksAccessPolicyAssociation, { access_scope: { type: 'cluster' } });
  });

  it('keys entries by principal, so removing one leaves the other untouched', () => {
    const only = synthCluster({ cluster: { adminPrincipalArns: [ADMIN_B], grantDeployerAdmin: false } }).parsed;
    const keyOf = (p: any) => entries(p, 'aws_eks_access_entry').find(([, e]) => e.principal_arn === ADMIN_B)![0];
    expect(keyOf(only)).toBe(keyOf(parsed));
  });

  it('does not warn about missing administrators', () => {
    expect(warnings(stack)).not.toContain('No cluster administrators');
  });
});

describe('ClusterStack with a read-only viewer (the pull-request plan role)', () => {
  const PLAN_ROLE = 'arn:aws:iam::111122223333:role/github-plan';
  const { parsed } = synthCluster({ cluster: { viewerPrincipalArns: [PLAN_ROLE] } });

  it('gives the viewer an access entry with AmazonEKSAdminViewPolicy, never the admin policy', () => {
    const viewer = entries(parsed, 'aws_eks_access_entry').find(([, e]) => e.principal_arn === PLAN_ROLE)!;
    const associations = values(parsed, 'aws_eks_access_policy_association').filter((a) => a.principal_arn.includes(viewer[0]));
    expect(associations.map((a) => a.policy_arn)).toEqual([expect.stringMatching(/cluster-access-policy\/AmazonEKSAdminViewPolicy$/)]);
    expect(associations[0].access_scope).toEqual({ type: 'cluster' });
  });

  it('rejects a principal listed as both admin and viewer', () => {
    expect(() => testConfig({ cluster: { adminPrincipalArns: [PLAN_ROLE], viewerPrincipalArns: [PLAN_ROLE] } })).toThrow(
      /cluster\.viewerPrincipalArns: must not repeat a principal of cluster\.adminPrincipalArns/,
    );
  });
});

describe('ClusterStack options', () => {
  it('gives the deploying role an access entry resolved from its session when asked', () => {
    const { parsed } = synthCluster({ cluster: { grantDeployerAdmin: true } });
    const [entry] = values(parsed, 'aws_eks_access_entry');
    expect(entry.principal_arn).toMatch(/^\$\{data\.aws_iam_session_context\.\w+\.issuer_arn\}$/);
    const [session] = Object.values<any>(parsed.data.aws_iam_session_context);
    expect(session.arn).toMatch(/^\$\{data\.aws_caller_identity\.\w+\.arn\}$/);
  });

  it('turns the public endpoint off without sending CIDRs, and does not warn', () => {
    const { stack, parsed } = synthCluster({ cluster: { endpointPublicAccess: false } });
    const [cluster] = values(parsed, 'aws_eks_cluster');
    expect(cluster.vpc_config.endpoint_private_access).toBe(true);
    expect(cluster.vpc_config.endpoint_public_access).toBe(false);
    expect(cluster.vpc_config.public_access_cidrs).toBeUndefined();
    expect(warnings(stack)).not.toContain('publicAccessCidrs');
  });

  it('allow-lists the public endpoint to the configured CIDRs', () => {
    const { stack, parsed } = synthCluster({ cluster: { publicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'] } });
    expect(values(parsed, 'aws_eks_cluster')[0].vpc_config.public_access_cidrs).toEqual(['203.0.113.0/24', '198.51.100.7/32']);
    expect(warnings(stack)).not.toContain('publicAccessCidrs');
  });

  it('uses the Graviton AMI type for arm64 system nodes and the configured volume, hop limit and retention', () => {
    const { synth } = synthCluster({
      cluster: { logRetentionDays: 90, systemNodes: { instanceTypes: ['m7g.large', 'c7g.large'], rootVolumeGiB: 80, metadataHopLimit: 2 } },
    });
    expect(synth).toHaveResourceWithProperties(EksNodeGroup, { ami_type: 'AL2023_ARM_64_STANDARD' });
    expect(synth).toHaveResourceWithProperties(LaunchTemplate, {
      metadata_options: expect.objectContaining({ http_tokens: 'required', http_put_response_hop_limit: 2 }),
      block_device_mappings: [expect.objectContaining({ ebs: expect.objectContaining({ volume_size: 80, encrypted: 'true' }) })],
    });
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { retention_in_days: 90 });
  });
});
