import { readFileSync } from 'fs';
import { join } from 'path';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry';
import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SsmDocument } from '@cdktf/provider-aws/lib/ssm-document';
import { installerFromDocumentContent, renderNodeFilesInstaller, sha256Hex } from '../../constructs/models/node-files-document';
import { FAKE_CLUSTER, FAKE_EDGE, FAKE_NETWORK } from '../helpers/fake-outputs';
import { ACCOUNT, fakeCluster, fakeStorage, synthCapacity } from './fixtures';

/** Policy documents (data sources) by construct path fragment. */
function doc(parsed: any, fragment: string): any {
  const entry = Object.entries(parsed.data.aws_iam_policy_document).find(([id]) => id.includes(fragment));
  if (!entry) throw new Error(`no policy document matching ${fragment}`);
  return entry[1];
}
const bySid = (document: any) => Object.fromEntries(document.statement.map((s: any) => [s.sid, s]));
const allActions = (document: any): string[] => document.statement.flatMap((s: any) => s.actions);
const conditionValue = (statement: any, test: string, variable: string) =>
  statement.condition?.find((c: any) => c.test === test && c.variable === variable)?.values;

describe('CapacityStack', () => {
  const { synth, parsed, stack } = synthCapacity();

  describe('interruption queue', () => {
    it('is encrypted (SQS-managed SSE) and keeps messages for 300 s', () => {
      expect(synth).toHaveResourceWithProperties(SqsQueue, { name: 'comfyui-dev-karpenter', message_retention_seconds: 300, sqs_managed_sse_enabled: true });
      // the only queue here: the wake queue of elastic serving is the edge stack's (__tests__/elastic/elastic-stacks.test.ts)
      expect(Object.keys(parsed.resource.aws_sqs_queue)).toHaveLength(1);
    });

    it('lets only the EventBridge rules and the SQS service send, and denies non-TLS access', () => {
      const s = bySid(doc(parsed, 'InterruptionQueue_PolicyDocument'));
      expect(s.AllowEventBridgeRules).toMatchObject({ effect: 'Allow', actions: ['sqs:SendMessage'], principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }] });
      const sources = conditionValue(s.AllowEventBridgeRules, 'ArnEquals', 'aws:SourceArn');
      expect(sources).toHaveLength(4);
      for (const id of Object.keys(parsed.resource.aws_cloudwatch_event_rule)) expect(sources).toContain(`\${aws_cloudwatch_event_rule.${id}.arn}`);
      expect(s.AllowSqsService).toMatchObject({ effect: 'Allow', actions: ['sqs:SendMessage'], principals: [{ type: 'Service', identifiers: ['sqs.amazonaws.com'] }] });
      expect(conditionValue(s.AllowSqsService, 'StringEquals', 'aws:SourceAccount')).toEqual(['${data.aws_caller_identity.Account.account_id}']);
      expect(s.DenyInsecureTransport).toMatchObject({ effect: 'Deny', actions: ['sqs:*'], principals: [{ type: '*', identifiers: ['*'] }] });
      expect(conditionValue(s.DenyInsecureTransport, 'Bool', 'aws:SecureTransport')).toEqual(['false']);
      const queuePolicy = Object.values(parsed.resource.aws_sqs_queue_policy)[0] as any;
      expect(queuePolicy.queue_url).toMatch(/^\$\{aws_sqs_queue\.InterruptionQueue_[A-F0-9]+\.url\}$/);
    });

    it.each([
      ['comfyui-dev-karpenter-spot', { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] }],
      ['comfyui-dev-karpenter-rebalance', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] }],
      [
        'comfyui-dev-karpenter-state-change',
        { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['stopping', 'stopped', 'shutting-down', 'terminated'] } },
      ],
      [
        'comfyui-dev-karpenter-scheduled-change',
        { source: ['aws.health'], 'detail-type': ['AWS Health Event'], detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] } },
      ],
    ])('rule %s matches its event pattern and targets the queue', (name, pattern) => {
      const [id, rule] = Object.entries(parsed.resource.aws_cloudwatch_event_rule).find(([, r]: any) => r.name === name) as [string, any];
      expect(JSON.parse(rule.event_pattern)).toEqual(pattern);
      expect(name.length).toBeLessThanOrEqual(64);
      const targets = Object.values(parsed.resource.aws_cloudwatch_event_target).filter((t: any) => t.rule === `\${aws_cloudwatch_event_rule.${id}.name}`) as any[];
      expect(targets).toHaveLength(1);
      expect(targets[0].arn).toMatch(/^\$\{aws_sqs_queue\.InterruptionQueue_[A-F0-9]+\.arn\}$/);
    });

    it('has exactly four rules', () => {
      expect(Object.keys(parsed.resource.aws_cloudwatch_event_rule)).toHaveLength(4);
      expect(synth).toHaveResource(CloudwatchEventRule);
    });
  });

  describe('Pod Identity', () => {
    it('binds the Karpenter, load balancer controller (and KEDA operator) service accounts to their roles', () => {
      expect(Object.keys(parsed.resource.aws_eks_pod_identity_association)).toHaveLength(3);
      expect(synth).toHaveResourceWithProperties(EksPodIdentityAssociation, {
        cluster_name: 'comfyui-dev',
        namespace: 'kube-system',
        service_account: 'karpenter',
        role_arn: expect.stringMatching(/^\$\{aws_iam_role\.KarpenterController_Role_[A-F0-9]+\.arn\}$/),
      });
      expect(synth).toHaveResourceWithProperties(EksPodIdentityAssociation, {
        cluster_name: 'comfyui-dev',
        namespace: 'kube-system',
        service_account: 'aws-load-balancer-controller',
        role_arn: expect.stringMatching(/^\$\{aws_iam_role\.LoadBalancerController_Role_[A-F0-9]+\.arn\}$/),
      });
    });

    it('takes namespace and service accounts from config', () => {
      const custom = synthCapacity({ karpenter: { namespace: 'karpenter', serviceAccount: 'karpenter-ctl', loadBalancerControllerServiceAccount: 'lbc' } });
      expect(custom.synth).toHaveResourceWithProperties(EksPodIdentityAssociation, { namespace: 'karpenter', service_account: 'karpenter-ctl' });
      expect(custom.synth).toHaveResourceWithProperties(EksPodIdentityAssociation, { namespace: 'kube-system', service_account: 'lbc' });
      const trust = bySid(doc(custom.parsed, 'KarpenterController_Trust')).AllowEksPodIdentity;
      expect(conditionValue(trust, 'StringEquals', 'aws:RequestTag/kubernetes-namespace')).toEqual(['karpenter']);
      expect(conditionValue(trust, 'StringEquals', 'aws:RequestTag/kubernetes-service-account')).toEqual(['karpenter-ctl']);
    });

    it('trusts only pods.eks.amazonaws.com for this cluster, namespace and service account', () => {
      for (const [fragment, sa] of [
        ['KarpenterController_Trust', 'karpenter'],
        ['LoadBalancerController_Trust', 'aws-load-balancer-controller'],
      ]) {
        const trust = doc(parsed, fragment);
        expect(trust.statement).toHaveLength(1);
        const s = trust.statement[0];
        expect(s).toMatchObject({ effect: 'Allow', actions: ['sts:AssumeRole', 'sts:TagSession'], principals: [{ type: 'Service', identifiers: ['pods.eks.amazonaws.com'] }] });
        expect(conditionValue(s, 'StringEquals', 'aws:RequestTag/eks-cluster-name')).toEqual(['comfyui-dev']);
        expect(conditionValue(s, 'StringEquals', 'aws:RequestTag/kubernetes-service-account')).toEqual([sa]);
        expect(conditionValue(s, 'StringEquals', 'aws:SourceAccount')).toEqual(['${data.aws_caller_identity.Account.account_id}']);
      }
    });
  });

  describe('Karpenter controller policy', () => {
    const policy = doc(parsed, 'KarpenterController_Permissions');
    const s = bySid(policy);

    it('names every action: no `*` anywhere in an action', () => {
      const actions = allActions(policy);
      expect(actions.length).toBeGreaterThan(20);
      for (const action of actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    });

    it('passes only the GPU node role, only to EC2', () => {
      expect(s.AllowPassingInstanceRole.actions).toEqual(['iam:PassRole']);
      expect(s.AllowPassingInstanceRole.resources).toEqual([expect.stringMatching(/^\$\{aws_iam_role\.GpuNodeRole_[A-F0-9]+\.arn\}$/)]);
      expect(conditionValue(s.AllowPassingInstanceRole, 'StringEquals', 'iam:PassedToService')).toContain('ec2.amazonaws.com');
    });

    it('cannot create, re-role or delete instance profiles (the profile is Terraform-owned)', () => {
      const actions = allActions(policy);
      for (const forbidden of ['iam:CreateInstanceProfile', 'iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile', 'iam:TagInstanceProfile']) {
        expect(actions).not.toContain(forbidden);
      }
      expect(s.AllowInstanceProfileReadActions.resources).toEqual([expect.stringMatching(/^\$\{aws_iam_instance_profile\.GpuNodeRole_InstanceProfile_[A-F0-9]+\.arn\}$/)]);
    });

    it('launches, tags and terminates only resources tagged for this cluster and a NodePool', () => {
      for (const sid of ['AllowScopedEC2InstanceActionsWithTags', 'AllowScopedResourceCreationTagging']) {
        expect(conditionValue(s[sid], 'StringEquals', 'aws:RequestTag/kubernetes.io/cluster/comfyui-dev')).toEqual(['owned']);
        expect(conditionValue(s[sid], 'StringEquals', 'aws:RequestTag/eks:eks-cluster-name')).toEqual(['comfyui-dev']);
        expect(conditionValue(s[sid], 'StringLike', 'aws:RequestTag/karpenter.sh/nodepool')).toEqual(['*']);
      }
      for (const sid of ['AllowScopedDeletion', 'AllowScopedResourceTagging', 'AllowScopedEC2LaunchTemplateAccessActions']) {
        expect(conditionValue(s[sid], 'StringEquals', 'aws:ResourceTag/kubernetes.io/cluster/comfyui-dev')).toEqual(['owned']);
        expect(conditionValue(s[sid], 'StringLike', 'aws:ResourceTag/karpenter.sh/nodepool')).toEqual(['*']);
      }
      expect(s.AllowScopedDeletion.actions).toEqual(['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate']);
    });

    it('reads only its interruption queue and describes only its cluster', () => {
      expect(s.AllowInterruptionQueueActions.actions).toEqual(['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage']);
      expect(s.AllowInterruptionQueueActions.resources).toEqual([expect.stringMatching(/^\$\{aws_sqs_queue\.InterruptionQueue_[A-F0-9]+\.arn\}$/)]);
      expect(s.AllowAPIServerEndpointDiscovery.resources).toEqual([fakeCluster.clusterArn]);
      expect(conditionValue(s.AllowRegionalReadActions, 'StringEquals', 'aws:RequestedRegion')).toEqual(['us-west-2']);
    });

    it('keeps `Resource: *` to the calls that support nothing narrower', () => {
      const unscoped = policy.statement.filter((st: any) => st.resources.includes('*')).map((st: any) => st.sid);
      expect(unscoped.sort()).toEqual(['AllowPricingReadActions', 'AllowRegionalReadActions']);
    });
  });

  describe('load balancer controller policy: TargetGroupBinding mode (default)', () => {
    const policy = doc(parsed, 'LoadBalancerController_Permissions');
    const readOnly = (action: string) => /^[a-z0-9-]+:(Describe|Get|List)[A-Za-z0-9]*$/.test(action);

    it('names every action: no `*` anywhere in an action', () => {
      for (const action of allActions(policy)) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
    });

    it('changes nothing but the registrations of the one Terraform-owned target group', () => {
      const mutating = policy.statement.filter((st: any) => st.actions.some((a: string) => !readOnly(a)));
      expect(mutating).toEqual([
        expect.objectContaining({ actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'], resources: [FAKE_EDGE.targetGroupArn] }),
      ]);
    });

    it('keeps `Resource: *` to read-only calls', () => {
      for (const st of policy.statement.filter((x: any) => x.resources.includes('*'))) for (const a of st.actions) expect({ a, readOnly: readOnly(a) }).toEqual({ a, readOnly: true });
    });
  });

  describe('load balancer controller policy: ingress mode', () => {
    const ingress = doc(synthCapacity({ karpenter: { loadBalancerControllerPermissions: 'ingress' } }).parsed, 'LoadBalancerController_Permissions');
    const s = bySid(ingress);
    const readOnly = (action: string) => /^[a-z0-9-]+:(Describe|Get|List)[A-Za-z0-9]*$/.test(action);
    const clusterTagged = (st: any) =>
      ['aws:ResourceTag/elbv2.k8s.aws/cluster', 'aws:RequestTag/elbv2.k8s.aws/cluster'].some((v) => conditionValue(st, 'StringEquals', v)?.join() === 'comfyui-dev');

    it('creates load balancers, target groups and security groups only with this cluster tag', () => {
      for (const sid of ['CreateTaggedLoadBalancers', 'TagSecurityGroupOnCreate', 'TagOnCreate', 'CreateTaggedSecurityGroup']) {
        expect(conditionValue(s[sid], 'StringEquals', 'aws:RequestTag/elbv2.k8s.aws/cluster')).toEqual(['comfyui-dev']);
      }
    });

    it('modifies and deletes only resources tagged for this cluster', () => {
      for (const sid of ['ModifyOwnedLoadBalancers', 'DeleteOwnedSecurityGroups', 'RetagOwnedLoadBalancers', 'RetagOwnedSecurityGroups', 'CreateListenersAndRulesUnderOwnParents', 'DeleteOwnedListenersAndRules', 'ManageListenerSettings', 'ModifyOwnedListenerAttributes', 'TagListenersAndRules']) {
        expect(conditionValue(s[sid], 'StringEquals', 'aws:ResourceTag/elbv2.k8s.aws/cluster')).toEqual(['comfyui-dev']);
      }
      const deleting = ingress.statement.filter((st: any) => st.actions.some((a: string) => /:(DeleteLoadBalancer|DeleteTargetGroup|DeleteSecurityGroup)$/.test(a)));
      expect(deleting.map((st: any) => st.sid).sort()).toEqual(['DeleteOwnedSecurityGroups', 'ModifyOwnedLoadBalancers']);
    });

    it('every mutating statement carries the cluster-tag condition or names one resource (node security group, VPC, target group)', () => {
      for (const st of ingress.statement.filter((x: any) => x.actions.some((a: string) => !readOnly(a)) && x.sid !== 'CreateElbServiceLinkedRole')) {
        const named = st.resources.every((r: string) => r.endsWith(`/${FAKE_CLUSTER.nodeSecurityGroupId}`) || r.endsWith(`/${FAKE_NETWORK.vpcId}`) || r === FAKE_EDGE.targetGroupArn);
        expect({ sid: st.sid, scoped: clusterTagged(st) || named || st.sid.startsWith('Ingress') }).toEqual({ sid: st.sid, scoped: true });
      }
    });

    it('opens only the node security group to load balancers (plus groups it owns)', () => {
      expect(s.ManageSecurityGroupIngress.resources).toEqual([`arn:\${data.aws_partition.Partition.partition}:ec2:us-west-2:\${data.aws_caller_identity.Account.account_id}:security-group/${FAKE_CLUSTER.nodeSecurityGroupId}`]);
    });

    it('has no account-wide resource wildcard', () => {
      for (const st of ingress.statement) for (const r of st.resources) expect(r).not.toMatch(/:\*$/);
    });

    // What the controller does (aws-load-balancer-controller v3.2.2+7, pkg/deploy/elbv2/listener_manager.go and
    // listener_rule_manager.go): CreateListener/CreateRule carry Tags (elbv2.k8s.aws/cluster among them) when the
    // ListenerRulesTagging feature gate is on, so aws:RequestTag holds on create and aws:ResourceTag afterwards.
    const owned = (st: any) => conditionValue(st, 'StringEquals', 'aws:ResourceTag/elbv2.k8s.aws/cluster')?.join() === 'comfyui-dev';
    const requested = (st: any) => conditionValue(st, 'StringEquals', 'aws:RequestTag/elbv2.k8s.aws/cluster')?.join() === 'comfyui-dev';
    const granting = (action: string) => ingress.statement.filter((st: any) => st.actions.includes(`elasticloadbalancing:${action}`));
    const onType = (st: any, type: string) => st.resources.some((r: string) => r.includes(`:${type}/`));

    it('creates listeners and rules only with this cluster tag in the request', () => {
      for (const action of ['CreateListener', 'CreateRule']) {
        expect(granting(action).length).toBeGreaterThan(0);
        for (const st of granting(action)) expect({ sid: st.sid, action, requested: requested(st) }).toEqual({ sid: st.sid, action, requested: true });
      }
    });

    it('creates listeners only on its own load balancers and rules only on its own listeners (never the Terraform-owned ALB)', () => {
      for (const [action, parent] of [
        ['CreateListener', 'loadbalancer'],
        ['CreateRule', 'listener'],
      ]) {
        const onParent = granting(action).filter((st: any) => onType(st, parent));
        expect(onParent.length).toBeGreaterThan(0);
        for (const st of onParent) expect({ sid: st.sid, action, owned: owned(st) }).toEqual({ sid: st.sid, action, owned: true });
      }
    });

    it('modifies, retags and deletes only listeners and rules tagged for this cluster', () => {
      for (const action of ['DeleteListener', 'DeleteRule', 'ModifyListener', 'ModifyRule', 'SetRulePriorities', 'AddListenerCertificates', 'RemoveListenerCertificates', 'ModifyListenerAttributes']) {
        expect(granting(action).length).toBeGreaterThan(0);
        for (const st of granting(action)) expect({ sid: st.sid, action, owned: owned(st) }).toEqual({ sid: st.sid, action, owned: true });
      }
      // Retagging never adds or changes the cluster tag (the controller sets it only on create).
      for (const st of granting('RemoveTags')) expect(conditionValue(st, 'Null', 'aws:RequestTag/elbv2.k8s.aws/cluster')).toEqual(['true']);
    });

    it('grants ModifyListenerAttributes on listener ARNs, the resource the controller passes (ListenerArn)', () => {
      for (const st of granting('ModifyListenerAttributes')) {
        expect(st.resources.length).toBeGreaterThan(0);
        for (const r of st.resources) expect(r).toMatch(/:listener\/(app|net)\/\*\/\*\/\*$/);
      }
    });

    it('names the controller source its tag conditions were checked against (the module scripts/install-tools.sh pins)', () => {
      const source = readFileSync(join(__dirname, '../../constructs/addons/load-balancer-controller-policy.ts'), 'utf8');
      const pinned = /^LBC_CRD_MODULE_VERSION=(\S+)$/m.exec(readFileSync(join(__dirname, '../../scripts/install-tools.sh'), 'utf8'))?.[1];
      expect(pinned).toBeDefined();
      expect(source).toContain(`sigs.k8s.io/aws-load-balancer-controller@${pinned}`);
      for (const file of ['pkg/deploy/elbv2/listener_manager.go', 'pkg/deploy/elbv2/listener_rule_manager.go', 'pkg/deploy/tracking/provider.go', 'pkg/config/feature_gates.go']) expect(source).toContain(file);
    });
  });

  it('fits both controller policies within the 10,240-character inline policy limit', () => {
    for (const fragment of ['KarpenterController_Permissions', 'LoadBalancerController_Permissions']) {
      const statements = doc(parsed, fragment).statement.map((st: any) => ({
        Sid: st.sid,
        Effect: st.effect,
        Action: st.actions,
        Resource: st.resources,
        Condition: st.condition,
      }));
      // Tokens resolve to values at most this long.
      const text = JSON.stringify({ Version: '2012-10-17', Statement: statements })
        .replace(/\$\{data\.aws_partition\.Partition\.partition\}/g, 'aws-us-gov')
        .replace(/\$\{data\.aws_caller_identity\.Account\.account_id\}/g, ACCOUNT)
        .replace(/\$\{aws_[a-z_]+\.[A-Za-z0-9_-]+\.arn\}/g, `arn:aws-us-gov:iam::${ACCOUNT}:instance-profile/${'x'.repeat(64)}`);
      expect(text.length).toBeLessThan(10240);
    }
  });

  describe('GPU node identity', () => {
    it('attaches the worker, CNI, ECR pull and SSM managed policies', () => {
      const arns = Object.values(parsed.resource.aws_iam_role_policy_attachment).map((a: any) => a.policy_arn);
      expect(arns.sort()).toEqual(
        ['AmazonEC2ContainerRegistryPullOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonSSMManagedInstanceCore'].map(
          (p) => `arn:\${data.aws_partition.Partition.partition}:iam::aws:policy/${p}`,
        ),
      );
    });

    it('reads the models bucket only, and decrypts through S3 only', () => {
      const policy = doc(parsed, 'GpuNodeRole_ModelsReadDocument');
      expect(policy.statement).toEqual([
        { sid: 'ListModels', effect: 'Allow', actions: ['s3:ListBucket'], resources: [fakeStorage.modelsBucket.arn] },
        { sid: 'ReadModels', effect: 'Allow', actions: ['s3:GetObject'], resources: [`${fakeStorage.modelsBucket.arn}/*`] },
        {
          sid: 'DecryptModelsThroughS3',
          effect: 'Allow',
          actions: ['kms:Decrypt'],
          resources: [fakeStorage.dataKeyArn],
          condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: ['s3.us-west-2.amazonaws.com'] }],
        },
      ]);
    });

    it('publishes model-sync metrics to the ComfyUI/ModelSync namespace only', () => {
      expect(doc(parsed, 'GpuNodeRole_ModelSyncMetricsDocument').statement).toEqual([
        {
          sid: 'PublishModelSyncMetrics',
          effect: 'Allow',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: ['ComfyUI/ModelSync'] }],
        },
      ]);
    });

    it('writes model-sync command output only to the model-sync log group', () => {
      const policy = doc(parsed, 'GpuNodeRole_CommandLogsDocument');
      const group = 'arn:${data.aws_partition.Partition.partition}:logs:us-west-2:${data.aws_caller_identity.Account.account_id}:log-group:/aws/ssm/comfyui-dev-model-sync';
      expect(policy.statement[0]).toEqual({
        sid: 'WriteModelSyncCommandOutput',
        effect: 'Allow',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [group, `${group}:log-stream:*`],
      });
      expect(policy.statement[1].resources).toEqual([expect.stringMatching(/:log-group:\*$/)]);
    });

    it('reads the node files document and nothing else through its own policy (ssm:GetDocument on one ARN)', () => {
      const [documentId] = Object.keys(parsed.resource.aws_ssm_document);
      expect(doc(parsed, 'GpuNodeRole_NodeFilesReadDocument').statement).toEqual([
        { sid: 'ReadNodeFilesDocument', effect: 'Allow', actions: ['ssm:GetDocument'], resources: [`\${aws_ssm_document.${documentId}.arn}`] },
      ]);
      const policies = Object.values<any>(parsed.resource.aws_iam_role_policy).filter((p) => p.name === 'node-files-read');
      expect(policies).toHaveLength(1);
      expect(policies[0].role).toMatch(/^\$\{aws_iam_role\.GpuNodeRole_[A-F0-9]+\.name\}$/);
      // No other statement of the stack grants an SSM document action (the Karpenter controller reads SSM parameters, not documents).
      const ssmStatements = Object.values<any>(parsed.data.aws_iam_policy_document)
        .flatMap((d) => d.statement ?? [])
        .filter((st: any) => st.actions?.some((a: string) => /^ssm:(\*|.*Document)/.test(a)));
      expect(ssmStatements.map((st: any) => st.sid)).toEqual(['ReadNodeFilesDocument']);
    });

    it('owns the instance profile and admits the role to the cluster as EC2_LINUX', () => {
      expect(synth).toHaveResourceWithProperties(IamInstanceProfile, { name: 'comfyui-dev-gpu-node', role: expect.stringMatching(/GpuNodeRole_[A-F0-9]+\.name/) });
      expect(synth).toHaveResourceWithProperties(EksAccessEntry, {
        cluster_name: 'comfyui-dev',
        type: 'EC2_LINUX',
        principal_arn: expect.stringMatching(/^\$\{aws_iam_role\.GpuNodeRole_[A-F0-9]+\.arn\}$/),
      });
    });
  });

  describe('node files document', () => {
    it('is one Command document named from config, carrying the installer of scripts/node', () => {
      expect(synth).toHaveResourceWithProperties(SsmDocument, { name: 'comfyui-dev-gpu-node-files', document_type: 'Command', document_format: 'JSON', target_type: '/AWS::EC2::Instance' });
      const documents = Object.values<any>(parsed.resource.aws_ssm_document);
      expect(documents).toHaveLength(1);
      // Terraform unescapes $${ and %%{ when it writes the content (user-data.test.ts checks that with terraform itself).
      const content = documents[0].content.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
      expect(documents[0].content).not.toMatch(/(^|[^$])\$\{|(^|[^%])%\{/);
      expect(installerFromDocumentContent(content)).toBe(renderNodeFilesInstaller());
      // SSM documents hold at most 64 KB.
      expect(Buffer.byteLength(documents[0].content)).toBeLessThan(64 * 1000);
    });
  });

  it('exposes the contract outputs the cluster-addons stack needs', () => {
    expect(stack.outputs.gpuNodeInstanceProfileName).toMatch(/^\$\{TfToken\[TOKEN\.\d+\]\}$/);
    expect(stack.outputs.interruptionQueueName).toMatch(/^\$\{TfToken\[TOKEN\.\d+\]\}$/);
    expect(Object.keys(stack.outputs).sort()).toEqual(['gpuNodeInstanceProfileName', 'gpuNodeRoleArn', 'gpuNodeRoleName', 'interruptionQueueName', 'nodeFiles']);
    expect(stack.outputs.nodeFiles).toEqual({
      documentName: 'comfyui-dev-gpu-node-files',
      documentVersion: expect.stringMatching(/^\$\{TfToken\[TOKEN\.\d+\]\}$/),
      sha256: sha256Hex(renderNodeFilesInstaller()),
    });
  });

  it('configures no kubernetes or helm provider (AWS only)', () => {
    expect(Object.keys(parsed.provider)).toEqual(['aws']);
  });

  it('matches the reviewed snapshot', () => {
    expect(synth).toMatchSnapshot();
  });
});
