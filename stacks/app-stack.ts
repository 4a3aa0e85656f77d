/**
 * App stack: what ComfyUI itself needs. The ECR repository, the Pod Identity
 * role and association of the ComfyUI service account, and the first install
 * of charts/comfyui with values computed from the other stacks. The same
 * platform values are exported as `chart_values` for `make values`.
 */
import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { join } from 'path';
import { nodeModelPaths } from '../config';
import { comfyuiAppValues, comfyuiPlatformValues } from '../constructs/app/chart-values';
import { ComfyuiIdentity } from '../constructs/app/comfyui-identity';
import { ComfyuiRelease } from '../constructs/app/comfyui-release';
import { ImageRepository } from '../constructs/app/image-repository';
import { KubeProviders } from '../constructs/cluster/kube-providers';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { jobsChartValues } from '../constructs/app/chart-values';
import { AppOutputs, ClusterOutputs, EdgeOutputs, JobsOutputs, NetworkOutputs, StorageOutputs } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** The chart, relative to this file (stacks/ in tests, .build/ when bundled: both one level down). */
export const COMFYUI_CHART_DIR = join(__dirname, '..', 'charts', 'comfyui');

export interface AppStackProps extends PlatformStackProps {
  /** Cluster to install into and to associate the role with. */
  readonly cluster: ClusterOutputs;
  /** Outputs and inputs buckets and their key. */
  readonly storage: StorageOutputs;
  /** Target group the pods register into. */
  readonly edge: EdgeOutputs;
  /** Subnet CIDRs the load balancer sends from (NetworkPolicy). */
  readonly network: NetworkOutputs;
  /** The jobs stack's queue, table and worker policy (absent: jobs disabled). */
  readonly jobs?: JobsOutputs;
  /** Chart directory. Default: charts/comfyui of this repository. */
  readonly chartDir?: string;
}

export class AppStack extends PlatformStack {
  /** Typed outputs. */
  public readonly outputs: AppOutputs;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { config, cluster, storage, edge, network } = props;
    const app = config.app;

    const images = new ImageRepository(this, 'Images', { name: `${this.prefix}/comfyui`, keepImages: app.ecrKeepImages });

    const identity = new ComfyuiIdentity(this, 'Comfyui', {
      roleName: `${this.prefix}-comfyui`,
      accountId: this.accountId,
      clusterName: cluster.clusterName,
      namespace: app.namespace,
      serviceAccount: app.serviceAccount,
      outputsBucket: storage.outputsBucket,
      inputsBucket: storage.inputsBucket,
      inputsWritable: app.inputsWritable,
      dataKeyArn: storage.dataKeyArn,
      region: config.region,
    });

    // The jobs worker is a sidecar of the ComfyUI pod, so it acts as the ComfyUI service account's role.
    const jobsWorkerPolicy = props.jobs
      ? new IamRolePolicyAttachment(this, 'JobsWorkerPolicy', { role: identity.role.name, policyArn: props.jobs.workerPolicyArn })
      : undefined;

    const paths = nodeModelPaths(config);
    const platformValues = comfyuiPlatformValues({
      imageRepository: images.repositoryUrl,
      serviceAccount: app.serviceAccount,
      port: app.port,
      modelsDir: paths.modelsDir,
      readinessMarker: paths.readinessMarker,
      modelFolders: config.models.prefixes,
      region: config.region,
      outputsBucket: storage.outputsBucket,
      inputsBucket: storage.inputsBucket,
      inputsWritable: app.inputsWritable,
      targetGroupArn: edge.targetGroupArn,
      // The internal ALB lives in the private subnets.
      // Only the load balancer's own subnets: nodes and other pods (private subnets) cannot reach ComfyUI directly.
      ingressCidrs: network.albSubnetCidrs,
      autoscalingMode: app.autoscaling.mode,
      clusterName: cluster.clusterName,
      wakeQueueUrl: edge.wakeQueue?.url,
      targetGroupMetricDimensions: edge.targetGroupMetricDimensions,
    });
    if (props.jobs) platformValues.jobs = jobsChartValues({ jobs: props.jobs, clusterName: cluster.clusterName, region: config.region, maxAttempts: config.jobs.maxAttempts });

    const providers = new KubeProviders(this, 'Kube', { cluster, region: config.region });
    new ComfyuiRelease(this, 'Release', {
      providers,
      chartDir: props.chartDir ?? COMFYUI_CHART_DIR,
      namespace: app.namespace,
      releaseName: app.releaseName,
      platformValues,
      appValues: comfyuiAppValues({ imageTag: app.imageTag, replicas: app.replicas, autoscaling: app.autoscaling }),
      owner: app.releaseOwner,
      dependsOn: [identity.association, ...(jobsWorkerPolicy ? [jobsWorkerPolicy] : [])],
    });

    // `make values` reads these (scripts/gen-values.mjs).
    new TerraformOutput(this, 'chart_values', { value: platformValues, description: 'Platform-owned values of charts/comfyui (make values writes them to generated/comfyui-values.yaml)' });
    new TerraformOutput(this, 'release', {
      value: { name: app.releaseName, namespace: app.namespace },
      description: 'Helm release name and namespace of ComfyUI',
    });
    new TerraformOutput(this, 'image_repository_url', { value: images.repositoryUrl, description: 'ECR repository to push ComfyUI images to' });

    this.outputs = { imageRepositoryUrl: images.repositoryUrl, comfyuiRoleArn: identity.roleArn };
  }
}
