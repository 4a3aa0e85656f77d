import { Release } from '@cdktf/provider-helm/lib/release';
import { App, TerraformLocal, Testing, TerraformStack } from 'cdktf';
import { ClusterAddonsStack } from '../../stacks/cluster-addons-stack';
import { SYSTEM_NODE_LABEL, SYSTEM_NODE_TOLERATION } from '../../config';
import { testConfig } from '../helpers/config';
import { fakeCapacity, fakeCluster, fakeNetwork, fakeUserData, releasesByName, releaseValues, synthAddons } from './fixtures';

describe('ClusterAddonsStack', () => {
  const { synth, parsed } = synthAddons();
  const releases = releasesByName(parsed);

  it('installs Karpenter CRDs, Karpenter, the GPU pools, the NVIDIA device plugin, the load balancer controller and KEDA', () => {
    expect(Object.keys(releases).sort()).toEqual(['aws-load-balancer-controller', 'karpenter', 'karpenter-crd', 'karpenter-gpu-pool', 'keda', 'nvidia-device-plugin']);
  });

  it('pins the version of every release from a chart repository', () => {
    const config = testConfig();
    const expected: Record<string, [string, string, string]> = {
      'karpenter-crd': ['oci://public.ecr.aws/karpenter', 'karpenter-crd', config.karpenter.version],
      karpenter: ['oci://public.ecr.aws/karpenter', 'karpenter', config.karpenter.version],
      'nvidia-device-plugin': ['https://nvidia.github.io/k8s-device-plugin', 'nvidia-device-plugin', config.karpenter.nvidiaDevicePluginVersion],
      'aws-load-balancer-controller': ['https://aws.github.io/eks-charts', 'aws-load-balancer-controller', config.karpenter.loadBalancerControllerVersion],
    };
    for (const [name, [repository, chart, version]] of Object.entries(expected)) {
      expect(releases[name]).toMatchObject({ repository, chart, version });
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(releases.karpenter.version).toBe('1.15.1');
  });

  it('installs the CRDs from their own chart and the controller after them, skipping the chart crds/', () => {
    expect(releases.karpenter.skip_crds).toBe(true);
    expect(releases.karpenter.depends_on).toEqual([expect.stringMatching(/^helm_release\.Karpenter_Crds_[A-F0-9]+$/)]);
  });

  it('passes the cluster, the interruption queue and the Spot-to-Spot feature gate to Karpenter', () => {
    const values = releaseValues(releases.karpenter);
    expect(values.settings).toEqual({
      clusterName: fakeCluster.clusterName,
      clusterEndpoint: fakeCluster.endpoint,
      interruptionQueue: fakeCapacity.interruptionQueueName,
      featureGates: { spotToSpotConsolidation: true },
    });
  });

  it('runs two Karpenter replicas with a PDB on the system node group, with the Pod Identity service account', () => {
    const values = releaseValues(releases.karpenter);
    expect(values.replicas).toBe(2);
    expect(values.podDisruptionBudget).toEqual({ name: 'karpenter', maxUnavailable: 1 });
    expect(values.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', [SYSTEM_NODE_LABEL.key]: SYSTEM_NODE_LABEL.value });
    expect(values.tolerations).toContainEqual(SYSTEM_NODE_TOLERATION);
    expect(values.serviceAccount).toEqual({ create: true, name: 'karpenter' });
    expect(releases.karpenter.namespace).toBe('kube-system');
  });

  it('installs the GPU pools from the local chart after the Karpenter controller', () => {
    const pool = releases['karpenter-gpu-pool'];
    expect(pool.chart).toMatch(/^assets\/GpuNodePools_Chart_Asset_[A-F0-9]+\/[A-F0-9]+$/);
    expect(pool.repository).toBeUndefined();
    expect(pool.depends_on).toEqual([expect.stringMatching(/^helm_release\.Karpenter_Controller_[A-F0-9]+$/)]);
    expect(pool.wait).toBe(true);
  });

  it('passes the typed NodeClass and NodePools with the Terraform instance profile and the queue-independent settings', () => {
    const values = releaseValues(releases['karpenter-gpu-pool']);
    expect(values.nodeClass.name).toBe('gpu');
    expect(values.nodeClass.spec.instanceProfile).toBe(fakeCapacity.gpuNodeInstanceProfileName);
    expect(values.nodePools.map((p: any) => p.name)).toEqual(['gpu-spot', 'gpu-on-demand']);
  });

  it('passes the node user data through unchanged', () => {
    const values = releaseValues(releases['karpenter-gpu-pool']);
    expect(values.nodeClass.userData).toBe(fakeUserData);
  });

  it('GIVEN user data with quotes and a reference to another stack THEN it reaches the chart values JSON-escaped with the reference interpolated', () => {
    const app = Testing.app();
    const models = new TerraformStack(app, 'models');
    const bucket = new TerraformLocal(models, 'bucket', 'models-bucket').asString;
    const userData = `MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\nMODELS_BUCKET=${bucket}\n`;
    const stack = new ClusterAddonsStack(app, 'addons', { config: testConfig(), cluster: fakeCluster, capacity: fakeCapacity, network: fakeNetwork, nodeUserData: userData });
    const pool = releasesByName(JSON.parse(Testing.synth(stack)))['karpenter-gpu-pool'];
    expect(pool.values[0]).toContain('boundary=\\"B\\"\\n');
    expect(pool.values[0]).toMatch(/MODELS_BUCKET=\$\{[a-z_.]+bucket[a-z_]*\}/);
  });

  it('GIVEN user data from another stack (a token) THEN it is passed as a reference', () => {
    const app = Testing.app();
    const models = new TerraformStack(app, 'models');
    const userData = new TerraformLocal(models, 'user_data', fakeUserData).asString;
    const stack = new ClusterAddonsStack(app, 'addons', { config: testConfig(), cluster: fakeCluster, capacity: fakeCapacity, network: fakeNetwork, nodeUserData: userData });
    const pool = releasesByName(JSON.parse(Testing.synth(stack)))['karpenter-gpu-pool'];
    expect(pool.values[0]).toMatch(/"userData":"\$\{[a-z_.]+user_data[a-z_]*\}"/);
  });

  it('runs the NVIDIA device plugin only on GPU nodes, tolerating the GPU taint', () => {
    const values = releaseValues(releases['nvidia-device-plugin']);
    expect(values.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(values.affinity).toBeNull();
    expect(values.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('GIVEN the DCGM exporter enabled THEN installs it pinned on GPU nodes without a ServiceMonitor', () => {
    const withDcgm = releasesByName(synthAddons({ karpenter: { dcgmExporter: { enabled: true } } }).parsed);
    expect(withDcgm['dcgm-exporter']).toMatchObject({ repository: 'https://nvidia.github.io/dcgm-exporter/helm-charts', chart: 'dcgm-exporter', version: '4.8.3' });
    const values = releaseValues(withDcgm['dcgm-exporter']);
    expect(values.serviceMonitor).toEqual({ enabled: false });
    expect(values.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(releases['dcgm-exporter']).toBeUndefined();
  });

  it('configures the load balancer controller for this cluster and VPC on system nodes', () => {
    const values = releaseValues(releases['aws-load-balancer-controller']);
    expect(values).toMatchObject({
      clusterName: fakeCluster.clusterName,
      region: 'us-west-2',
      vpcId: fakeNetwork.vpcId,
      replicaCount: 2,
      podDisruptionBudget: { maxUnavailable: 1 },
      serviceAccount: { create: true, name: 'aws-load-balancer-controller' },
      enableServiceMutatorWebhook: false,
      defaultTags: { Project: 'comfyui', Environment: 'dev', ManagedBy: 'cdktf' },
    });
    expect(values.nodeSelector[SYSTEM_NODE_LABEL.key]).toBe(SYSTEM_NODE_LABEL.value);
    expect(releases['aws-load-balancer-controller'].namespace).toBe('kube-system');
  });

  it('rolls back failed installs and upgrades', () => {
    for (const release of Object.values(releases)) expect(release).toMatchObject({ atomic: true, cleanup_on_fail: true, max_history: 10 });
    expect(synth).toHaveResourceWithProperties(Release, { name: 'karpenter', timeout: 600 });
  });

  it('talks to the cluster through the kubernetes and helm providers', () => {
    expect(Object.keys(parsed.provider).sort()).toEqual(['aws', 'helm', 'kubernetes']);
    expect(parsed.provider.helm[0].kubernetes.host).toBe(fakeCluster.endpoint);
  });

  it('matches the reviewed snapshot', () => {
    expect(synth).toMatchSnapshot();
  });
});

describe('ClusterAddonsStack in a full app synth', () => {
  it('copies the local chart into the stack output', () => {
    const outdir = require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'addons-'));
    const app = new App({ outdir });
    new ClusterAddonsStack(app, 'addons', { config: testConfig(), cluster: fakeCluster, capacity: fakeCapacity, network: fakeNetwork, nodeUserData: fakeUserData });
    app.synth();
    const { existsSync, readFileSync } = require('fs');
    const { join } = require('path');
    const stackDir = join(outdir, 'stacks', 'addons');
    const chartPath = releasesByName(JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')))['karpenter-gpu-pool'].chart;
    expect(existsSync(join(stackDir, chartPath, 'Chart.yaml'))).toBe(true);
    expect(existsSync(join(stackDir, chartPath, 'templates', 'nodepools.yaml'))).toBe(true);
  });
});
