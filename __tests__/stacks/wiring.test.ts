/**
 * The stacks are built by separate constructs and tested with fake upstream
 * values; this test synthesizes the whole platform once and checks that what
 * one stack produces is what the next one consumes, with the real values.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { gpuNodeTag, NODE_SYNC_COMMAND, nodeModelPaths } from '../../config';
import { buildPlatform } from '../../stacks/app';
import { testConfig } from '../helpers/config';
import { installerFromDocumentContent, sha256Hex } from '../../constructs/models/node-files-document';
import { installedFiles, shellAssignment } from '../models-node/user-data-parts';

const ROOT = join(__dirname, '../..');
const app = Testing.app();
buildPlatform(app, testConfig());
app.synth();
const stack = (role: string) => JSON.parse(readFileSync(join(app.outdir, 'stacks', `comfyui-dev-${role}`, 'cdk.tf.json'), 'utf8'));
const [network, edge, appStack, addons, modelSync, cluster, capacity] = ['network', 'edge', 'app', 'cluster-addons', 'model-sync', 'cluster', 'capacity'].map(stack);
const only = (tf: any, type: string) => {
  const all = Object.values<any>(tf.resource[type]);
  expect(all).toHaveLength(1);
  return all[0];
};
const chartValues = appStack.output.chart_values.value;
const chartDefaults = parse(readFileSync(join(ROOT, 'charts/comfyui/values.yaml'), 'utf8'));
const config = testConfig();

describe('edge -> app (ALB target group and the chart)', () => {
  const targetGroup = only(edge, 'aws_lb_target_group');

  it('registers pods on the port ComfyUI listens on and the Service exposes', () => {
    expect(targetGroup).toMatchObject({ port: config.app.port, target_type: 'ip', protocol: 'HTTP' });
    expect(chartValues.comfyui.port).toBe(config.app.port);
    expect(chartValues.service.port).toBe(config.app.port);
  });

  it('health-checks the path the chart probes', () => {
    expect(targetGroup.health_check.path).toBe(chartDefaults.probes.path);
  });

  it('binds pods to the edge stack\'s target group (read from its state)', () => {
    expect(chartValues.exposure).toEqual({
      mode: 'targetGroupBinding',
      targetGroupBinding: { targetGroupArn: expect.stringMatching(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-comfyui-dev-edge\.outputs\..*aws_lb_target_group.*arn\}$/) },
    });
  });

  it('opens the node security group to the ALB on that port', () => {
    const rule = Object.values<any>(edge.resource.aws_vpc_security_group_ingress_rule).find((r) => r.from_port === config.app.port);
    expect(rule).toMatchObject({ to_port: config.app.port, ip_protocol: 'tcp', referenced_security_group_id: expect.stringMatching(/aws_security_group/) });
    expect(rule.security_group_id).toMatch(/cross-stack-reference-input-comfyui-dev-cluster/);
  });
});

describe('network -> app (NetworkPolicy)', () => {
  it('admits exactly the load balancer subnets, where the internal ALB alone lives (not the node and pod subnets)', () => {
    const subnets = Object.values<any>(network.resource.aws_subnet);
    const albCidrs = subnets.filter((s) => /-alb-\d+$/.test(s.tags.Name)).map((s) => s.cidr_block);
    const privateCidrs = subnets.filter((s) => s.tags['kubernetes.io/role/internal-elb'] === '1').map((s) => s.cidr_block);
    expect(albCidrs).toHaveLength(privateCidrs.length);
    expect(chartValues.networkPolicy).toEqual({ enabled: true, ingressCidrs: albCidrs });
    for (const cidr of privateCidrs) expect(chartValues.networkPolicy.ingressCidrs).not.toContain(cidr);
    const alb = only(edge, 'aws_lb');
    expect(alb.internal).toBe(true);
  });
});

describe('app stack (Pod Identity) -> chart (service account)', () => {
  it('associates the role with the service account the chart creates, in the release namespace', () => {
    const association = only(appStack, 'aws_eks_pod_identity_association');
    expect(association.service_account).toBe(chartValues.serviceAccount.name);
    expect(association.namespace).toBe(config.app.namespace);
    expect(only(appStack, 'helm_release').namespace).toMatch(/kubernetes_namespace_v1/);
  });
});

describe('models: node bootstrap, chart, Lambda and SSM document agree', () => {
  const paths = nodeModelPaths(config);
  const userData: string = JSON.parse(Object.values<any>(addons.resource.helm_release).find((r) => r.name === 'karpenter-gpu-pool').values[0]).nodeClass.userData;

  it('mounts the directory the nodes sync into, and waits for the marker they write', () => {
    expect(userData).toContain(`MODELS_DIR=${paths.modelsDir}\n`);
    expect(chartValues.models.hostPath).toBe(paths.modelsDir);
    expect(`${paths.modelsDir}/${chartValues.models.readinessMarker}`).toBe(paths.readinessMarker);
    expect(chartValues.models.folders).toEqual(config.models.prefixes);
  });

  it('targets the tag the EC2NodeClass puts on GPU nodes, and runs the command the bootstrap installs', () => {
    const tag = gpuNodeTag(config);
    const nodeClass = JSON.parse(Object.values<any>(addons.resource.helm_release).find((r) => r.name === 'karpenter-gpu-pool').values[0]).nodeClass;
    expect(nodeClass.spec.tags[tag.key]).toBe(tag.value);
    const lambda = only(modelSync, 'aws_lambda_function');
    expect(JSON.stringify(lambda.environment)).toContain(tag.value);
    const document = JSON.parse(only(modelSync, 'aws_ssm_document').content);
    expect(JSON.stringify(document)).toContain(paths.syncCommand);
  });

  it('fetches the node files document the capacity stack writes, pinned to its version, and expects the sha256 of its installer', () => {
    const [[id, document]] = Object.entries<any>(capacity.resource.aws_ssm_document);
    expect(shellAssignment(userData, 'doc')).toBe(document.name);
    // The version crosses stacks as a remote-state output of aws_ssm_document.<id>.document_version.
    const version = shellAssignment(userData, 'version');
    expect(version).toMatch(/^\$\{data\.terraform_remote_state\.[^{}\s]+\}$/);
    const outputs = Object.values<any>(capacity.output).map((o) => o.value);
    expect(outputs).toContain(`\${aws_ssm_document.${id}.document_version}`);
    const installer = installerFromDocumentContent(document.content.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{'));
    expect(shellAssignment(userData, 'want')).toBe(sha256Hex(installer));
    // The node role reads exactly that document.
    const statements = Object.values<any>(capacity.data.aws_iam_policy_document).flatMap((d) => d.statement ?? []);
    expect(statements.filter((st) => st.actions.includes('ssm:GetDocument'))).toEqual([expect.objectContaining({ resources: [`\${aws_ssm_document.${id}.arn}`] })]);
  });

  it('installs the sync command (from the node files document) where the model-sync SSM document runs it, and every unit runs that path', () => {
    expect(NODE_SYNC_COMMAND).toBe(paths.syncCommand);
    const files = installedFiles(installerFromDocumentContent(only(capacity, 'aws_ssm_document').content.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{')));
    expect(files.get(paths.syncCommand)).toEqual({ content: expect.stringMatching(/^#!\/usr\/bin\/env bash\n/), mode: '0755' });
    const document = JSON.parse(only(modelSync, 'aws_ssm_document').content);
    expect(document.mainSteps.map((step: any) => step.inputs.runCommand.at(-1))).toEqual([`exec ${paths.syncCommand} apply "$SSM_changes"`]);
    const execs = [...files].filter(([name]) => name.endsWith('.service')).flatMap(([, f]) => f.content.split('\n').filter((l) => l.startsWith('ExecStart=')));
    expect(execs.length).toBeGreaterThan(0);
    for (const line of execs) expect(line.startsWith(`ExecStart=${paths.syncCommand} `)).toBe(true);
  });

  it('lets the Lambda send commands only to instances carrying the tag key and value the EC2NodeClass puts on GPU nodes', () => {
    const tag = gpuNodeTag(config);
    const nodeClass = JSON.parse(Object.values<any>(addons.resource.helm_release).find((r) => r.name === 'karpenter-gpu-pool').values[0]).nodeClass;
    expect(nodeClass.spec.tags).toMatchObject({ [tag.key]: tag.value });
    const statements = Object.values<any>(modelSync.data.aws_iam_policy_document).flatMap((d) => d.statement ?? []);
    const toInstances = statements.filter((st) => st.actions?.includes('ssm:SendCommand') && st.resources?.some((r: string) => r.includes(':instance/')));
    expect(toInstances).toHaveLength(1);
    expect(toInstances[0].condition).toEqual([{ test: 'StringEquals', variable: `ssm:resourceTag/${tag.key}`, values: [tag.value] }]);
    // The SendCommand Targets the Lambda builds (tag:<key> = <value>) name the same tag.
    expect(only(modelSync, 'aws_lambda_function').environment.variables).toMatchObject({ TARGET_TAG_KEY: tag.key, TARGET_TAG_VALUE: tag.value });
  });
});

describe('cluster -> GPU nodes (Karpenter discovery)', () => {
  it('tags the node security group and the private subnets with the discovery tag the EC2NodeClass selects', () => {
    const nodeClass = JSON.parse(Object.values<any>(addons.resource.helm_release).find((r) => r.name === 'karpenter-gpu-pool').values[0]).nodeClass;
    const selector = nodeClass.spec.subnetSelectorTerms[0].tags;
    expect(selector).toEqual({ 'karpenter.sh/discovery': 'comfyui-dev' });
    expect(nodeClass.spec.securityGroupSelectorTerms[0].tags).toEqual(selector);
    const nodeSg = Object.values<any>(cluster.resource.aws_security_group).find((g) => g.tags?.['karpenter.sh/discovery']);
    expect(nodeSg.tags['karpenter.sh/discovery']).toBe('comfyui-dev');
  });
});
