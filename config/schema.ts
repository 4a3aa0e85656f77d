/**
 * The typed configuration of the platform.
 *
 * Every field has a default, so `make synth` needs no input at all. Objects
 * are strict: an unknown (for example misspelt) key is an error, not ignored.
 * docs/configuration.md is generated from the `.describe()` texts here by
 * `make docs` (scripts/gen-config-docs.ts); a test keeps it up to date.
 */
import { z } from 'zod';
import { cronProblem, isTimeZone } from './cron';
import { eligibleGpuInstanceTypes, MIN_SPOT_TO_SPOT_TYPES } from './gpu-instance-types';
import { DEFAULT_MODEL_EXTENSIONS, EXTENSION_PATTERN } from '../lambdas/model-sync/keys';

// ---------------------------------------------------------------- helpers

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns undefined when it is not a valid IPv4 CIDR. */
export function parseIpv4Cidr(value: string): { address: number; prefix: number } | undefined {
  const m = IPV4_CIDR.exec(value);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  return { address, prefix };
}

function cidrBlock(minPrefix: number, maxPrefix: number, what: string) {
  return z.string().superRefine((value, ctx) => {
    const parsed = parseIpv4Cidr(value);
    const ok =
      parsed !== undefined &&
      parsed.prefix >= minPrefix &&
      parsed.prefix <= maxPrefix &&
      // host bits must be zero, otherwise AWS normalises it silently
      (parsed.prefix === 0 || ((parsed.address & (~0 << (32 - parsed.prefix))) >>> 0) === parsed.address);
    if (!ok) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be ${what}, got ${value}` });
    }
  });
}

const anyCidr = cidrBlock(0, 32, 'an IPv4 CIDR block with zero host bits (e.g. 203.0.113.0/24)');

const REGION = /^(us|eu|ap|sa|ca|me|af|il|mx)-(gov-)?(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d$/;
const region = z.string().regex(REGION, 'must be an AWS region such as us-west-2');

const dnsLabel = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, 'must be lowercase letters, digits and hyphens, starting with a letter');

const k8sName = dnsLabel(63);
const semverish = (example: string) =>
  z.string().regex(/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, `must be a pinned version such as ${example}`);
const eksAddonVersion = z
  .string()
  .regex(/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'must be a pinned EKS add-on version such as v1.20.4-eksbuild.1');
const retentionDays = z
  .number()
  .int()
  .refine((d) => [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].includes(d), {
    message: 'must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)',
  });
const duration = z.string().regex(/^(\d+h)?(\d+m)?(\d+s)?$/, 'must be a Go duration such as 720h, 30m or 90s').refine((s) => s.length > 0, 'must not be empty');
const iamPrincipalArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:(role|user|assumed-role)\/[\w+=,.@/-]+$/, 'must be an IAM role or user ARN');
const kmsKeyArn = z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be a KMS key ARN such as arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');

/** CPU architecture of an EC2 instance type: Graviton families carry a `g` after the generation (m7g, c7gn, t4g, r8gd, g5g). */
export function instanceArchitecture(instanceType: string): 'arm64' | 'x86_64' {
  const family = instanceType.split('.')[0];
  return /^[a-z]+\d+g[a-z]*$/.test(family) ? 'arm64' : 'x86_64';
}

/** NVIDIA GPU instance families with local NVMe instance store (see config/gpu-instance-types.ts). */
export const NVIDIA_NVME_FAMILIES = ['g4dn', 'g5', 'g6', 'g6e', 'g7', 'g7e', 'gr6', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en', 'p6-b200', 'p6-b300'] as const;

// ---------------------------------------------------------------- sections

export const stateSchema = z
  .object({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
      .optional()
      .describe('S3 bucket for Terraform state. Unset: local state files under terraform.<stack>.tfstate.'),
    keyPrefix: z.string().regex(/^[A-Za-z0-9_.\/-]*$/, 'must be an S3 key prefix without spaces').default('comfyui').describe('Key prefix in the state bucket; each stack is stored at <prefix>/<environment>/<stack>.tfstate.'),
    region: region.optional().describe('Region of the state bucket. Default: the deployment region.'),
  })
  .strict()
  .describe('Terraform state backend. S3 uses the native lockfile (use_lockfile), no DynamoDB table.');

export const networkSchema = z
  .object({
    cidr: cidrBlock(16, 20, 'a /16 to /20 IPv4 block').default('10.2.0.0/16').describe('VPC CIDR block, /16 to /20. Subnets are carved from it.'),
    azCount: z.number().int().min(2, 'must be at least 2 (EKS needs two AZs)').max(4, 'must be at most 4').default(3).describe('Number of availability zones.'),
    natGateways: z.enum(['per-az', 'single']).default('per-az').describe('`per-az` (resilient) or `single` (cheaper, for dev).'),
    flowLogRetentionDays: retentionDays.default(30).describe('Retention of VPC flow logs in CloudWatch Logs.'),
    flowLogKmsKeyArn: kmsKeyArn.optional().describe('KMS key ARN encrypting the flow-log group. Unset: CloudWatch Logs default encryption. The key policy must allow logs.<region>.amazonaws.com.'),
  })
  .strict();

export const clusterSchema = z
  .object({
    // 1.35: in EKS standard support until 2027-03-27 (EKS release calendar); see docs/network-and-cluster.md.
    kubernetesVersion: z.string().regex(/^1\.\d{2}$/, 'must be a Kubernetes minor version such as 1.35').default('1.35').describe('EKS Kubernetes version. Keep the add-on versions below, karpenter.version and karpenter.amiAlias compatible with it.'),
    adminPrincipalArns: z
      .array(
        iamPrincipalArn.refine((arn) => !arn.includes(':assumed-role/'), {
          message: 'must be the IAM role ARN (arn:aws:iam::<account>:role/<name>), not an sts assumed-role session ARN: access entries only accept roles and users',
        }),
      )
      .default([])
      .refine((arns) => new Set(arns).size === arns.length, { message: 'must not list the same principal twice' })
      .describe('IAM principals given AmazonEKSClusterAdminPolicy through access entries.'),
    viewerPrincipalArns: z
      .array(
        iamPrincipalArn.refine((arn) => !arn.includes(':assumed-role/'), {
          message: 'must be the IAM role ARN (arn:aws:iam::<account>:role/<name>), not an sts assumed-role session ARN: access entries only accept roles and users',
        }),
      )
      .default([])
      .refine((arns) => new Set(arns).size === arns.length, { message: 'must not list the same principal twice' })
      .describe('IAM principals given read-only AmazonEKSAdminViewPolicy (incl. Secrets) through access entries, e.g. the pull-request plan role, so `terraform plan` of the in-cluster stacks works.'),
    grantDeployerAdmin: z
      .boolean()
      .default(true)
      .describe('Default true so one `cdktf deploy` of every stack works out of the box; for production set false and list your admin/CI roles in adminPrincipalArns instead (a deploy by a different role would otherwise move the entry). Gives the IAM role running the deployment an admin access entry (kept in Terraform state, unlike EKS\'s implicit creator admin). The in-cluster stacks need cluster access; do not also list that role in adminPrincipalArns.'),
    endpointPublicAccess: z.boolean().default(true).describe('Expose the API endpoint publicly (private access is always on).'),
    publicAccessCidrs: z.array(anyCidr).min(1, 'must list at least one CIDR').default(['0.0.0.0/0']).describe('CIDRs allowed to reach the public API endpoint. Narrow this in production.'),
    logRetentionDays: retentionDays.default(30).describe('Retention of control-plane logs.'),
    logKmsKeyArn: kmsKeyArn.optional().describe('KMS key ARN encrypting the control-plane log group. Unset: CloudWatch Logs default encryption. The key policy must allow logs.<region>.amazonaws.com.'),
    systemNodes: z
      .object({
        instanceTypes: z.array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as m7i.large')).min(1).default(['m7i.large', 'm6i.large']).describe('Instance types of the system node group (controllers only).'),
        minSize: z.number().int().min(1).default(2).describe('Minimum system nodes.'),
        desiredSize: z.number().int().min(1).default(2).describe('Desired system nodes.'),
        maxSize: z.number().int().min(1).default(4).describe('Maximum system nodes.'),
        rootVolumeGiB: z.number().int().min(20).max(1000).default(50).describe('Encrypted gp3 root volume size.'),
        metadataHopLimit: z.number().int().min(1).max(2).default(1).describe('IMDSv2 hop limit of system nodes. 1 keeps pods (other than host-network ones) away from the node role credentials; controllers get AWS access through Pod Identity.'),
      })
      .strict()
      .default({}),
    addons: z
      .object({
        // Builds published for Kubernetes 1.35 (sources in docs/network-and-cluster.md). Check with
        // `aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>` before changing.
        vpcCni: eksAddonVersion.default('v1.23.0-eksbuild.1').describe('vpc-cni add-on version.'),
        coreDns: eksAddonVersion.default('v1.14.3-eksbuild.3').describe('coredns add-on version.'),
        kubeProxy: eksAddonVersion.default('v1.35.3-eksbuild.18').describe('kube-proxy add-on version (its minor must match kubernetesVersion).'),
        podIdentityAgent: eksAddonVersion.default('v1.3.10-eksbuild.3').describe('eks-pod-identity-agent add-on version.'),
        mountpointS3Csi: eksAddonVersion.default('v2.7.0-eksbuild.1').describe('aws-mountpoint-s3-csi-driver add-on version (v2 or later: Pod Identity support).'),
      })
      .strict()
      .default({}),
  })
  .strict();

export const karpenterSchema = z
  .object({
    version: semverish('1.15.1').default('1.15.1').describe('Karpenter chart and controller version (oci://public.ecr.aws/karpenter/karpenter).'),
    namespace: k8sName.default('kube-system').describe('Namespace of the Karpenter controller.'),
    serviceAccount: k8sName.default('karpenter').describe('Service account of the Karpenter controller (Pod Identity association).'),
    amiAlias: z.string().regex(/^al2023@v\d{8}$/, 'must be a pinned AL2023 alias such as al2023@v20261012 (not @latest)').default('al2023@v20261012').describe('EC2NodeClass AMI alias, pinned. Roll forward by changing it.'),
    gpu: z
      .object({
        instanceFamilies: z
          .array(z.string().refine((f) => (NVIDIA_NVME_FAMILIES as readonly string[]).includes(f), { message: `must be an NVIDIA GPU instance family with local NVMe (${NVIDIA_NVME_FAMILIES.join(', ')})` }))
          .min(1, 'must list at least one family')
          .default(['g4dn', 'g5', 'g6', 'g6e'])
          .describe('Instance families the GPU NodePool may use.'),
        minGpus: z.number().int().min(1).max(8).default(1).describe('Minimum GPUs per node.'),
        maxGpus: z.number().int().min(1).max(8).default(4).describe('Maximum GPUs per node.'),
        minLocalNvmeGB: z
          .number()
          .int()
          .min(1)
          .max(100000)
          .default(200)
          .describe('Minimum local NVMe instance store per node, in GB. With instanceStorePolicy RAID0 the models, container images and kubelet share that array, so leave room for the whole models bucket plus ~50 GB. The default excludes g4dn.xlarge (125 GB).'),
        gpuLimit: z.number().int().min(1).default(16).describe('NodePool limit: total GPUs.'),
        cpuLimit: z.number().int().min(1).default(512).describe('NodePool limit: total vCPUs.'),
        consolidateAfter: duration.default('10m').describe('How long a node must be empty/underutilised before consolidation.'),
        expireAfter: duration.default('720h').describe('Maximum node lifetime.'),
        rootVolumeGiB: z.number().int().min(50).max(2000).default(150).describe('Encrypted gp3 root volume of GPU nodes.'),
        terminationGracePeriod: duration.default('1h').describe('Longest a GPU node drains (pods with karpenter.sh/do-not-disrupt included) before Karpenter terminates it.'),
        disruptionBudgetNodes: z
          .string()
          .regex(/^(\d+|(100|[1-9]?\d)%)$/, 'must be a node count such as 1 or a percentage such as 10%')
          .default('1')
          .describe('Disruption budget: GPU nodes Karpenter may voluntarily disrupt at once (consolidation, drift, expiry).'),
        onDemandFallback: z
          .object({
            enabled: z.boolean().default(true).describe('Add a lower-weight On-Demand NodePool used when no Spot capacity is available.'),
            gpuLimit: z.number().int().min(1).default(8).describe('On-Demand NodePool limit: total GPUs.'),
            cpuLimit: z.number().int().min(1).default(256).describe('On-Demand NodePool limit: total vCPUs.'),
          })
          .strict()
          .default({})
          .describe('On-Demand fallback pool; the Spot pool (weight 100) is always tried first.'),
      })
      .strict()
      .default({}),
    nvidiaDevicePluginVersion: semverish('0.20.0').default('0.20.0').describe('NVIDIA device plugin chart version.'),
    dcgmExporter: z
      .object({
        enabled: z.boolean().default(false).describe('Install the NVIDIA DCGM exporter for GPU metrics.'),
        version: semverish('4.8.3').default('4.8.3').describe('dcgm-exporter chart version.'),
      })
      .strict()
      .default({}),
    loadBalancerControllerVersion: semverish('3.5.0').default('3.5.0').describe('AWS Load Balancer Controller chart version.'),
    loadBalancerControllerServiceAccount: k8sName.default('aws-load-balancer-controller').describe('Service account of the AWS Load Balancer Controller in kube-system (Pod Identity association).'),
    loadBalancerControllerPermissions: z
      .enum(['targetGroupBinding', 'ingress'])
      .default('targetGroupBinding')
      .describe('What the AWS Load Balancer Controller may change: `targetGroupBinding` (the chart default exposure) only registers pods in the edge target group; `ingress` (chart exposure.mode ingress) manages load balancers, listeners and security groups tagged for this cluster.'),
  })
  .strict();

export const modelsSchema = z
  .object({
    bucketName: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name').optional().describe('Models bucket name. Default: <name>-models-<account>-<region>.'),
    nodePath: z.string().regex(/^\/[A-Za-z0-9_./-]+$/, 'must be an absolute path').default('/mnt/models').describe('Where GPU nodes keep models on local NVMe.'),
    prefixes: z
      .array(z.string().regex(/^[a-z0-9_]+$/, 'must be a ComfyUI model folder name such as checkpoints'))
      .min(1)
      .default(['checkpoints', 'loras', 'vae', 'clip', 'clip_vision', 'text_encoders', 'diffusion_models', 'unet', 'controlnet', 'upscale_models', 'embeddings', 'style_models', 'hypernetworks', 'photomaker', 'ipadapter'])
      .describe('Model folders synced under ComfyUI/models/ in the bucket.'),
    allowedExtensions: z
      .array(z.string().regex(EXTENSION_PATTERN, 'must be a dot followed by 1-16 lowercase letters or digits, such as .safetensors'))
      .min(1)
      .refine((list) => new Set(list).size === list.length, 'must not repeat an extension')
      .default([...DEFAULT_MODEL_EXTENSIONS])
      .describe('File extensions a model key must end with (ASCII case-insensitive); the Lambda and every node refuse other keys, and folders may not end in one (no file/folder clash). The default takes every format ComfyUI loads, pickle-based ones (.ckpt .pt .pt2 .pth .bin .pkl) included; production: [".safetensors", ".sft", ".gguf"] (docs/models.md).'),
    publisherPrincipalArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@\/*-]+$/, 'must be an IAM role or user ARN, such as arn:aws:iam::123456789012:role/model-publisher (wildcards * allowed in the name)'))
      .default([])
      .describe('IAM principals allowed to write and delete objects in the models bucket. Set: the bucket policy denies PutObject/DeleteObject (and ACL, retention, legal hold, restore and replication writes) to every other principal, whatever its IAM policies say. Empty: who may write is decided by IAM alone (docs/models.md).'),
    reconcileIntervalMinutes: z.number().int().min(1).max(1440).default(5).describe('How often every node reconciles its models with the bucket.'),
    parallelDownloads: z.number().int().min(1).max(32).default(4).describe('Model files a GPU node downloads at once in a full sync (each file already uses the multipart CRT client).'),
    syncLambda: z
      .object({
        batchSize: z.number().int().min(1).max(100).default(100).describe('SQS records per Lambda invocation.'),
        maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(5).describe('How long SQS gathers a batch.'),
        maxReceiveCount: z.number().int().min(1).max(20).default(5).describe('Deliveries before a message goes to the DLQ.'),
        logRetentionDays: retentionDays.default(30).describe('Retention of the model-sync log groups (Lambda, node command output, failed node commands).'),
        timeoutSeconds: z.number().int().min(10).max(900).default(60).describe('Function timeout; the queue visibility timeout is 6x this plus the batching window.'),
        memoryMb: z.number().int().min(128).max(10240).default(256).describe('Function memory (MB).'),
        maxConcurrentBatches: z.number().int().min(2).max(1000).default(2).describe('Most batches processed at once (event source maximum concurrency), which bounds the SendCommand rate.'),
        dispatchConcurrency: z.number().int().min(1).max(50).default(5).describe('SendCommand calls in flight at once within one batch.'),
        commandMaxConcurrency: z.string().regex(/^([1-9][0-9]*|[1-9][0-9]?%|100%)$/, 'must be a node count or a percentage such as 10 or 50%').default('100%').describe('SSM MaxConcurrency: GPU nodes running one copy/delete at the same time.'),
        commandMaxErrors: z.string().regex(/^(0|[1-9][0-9]*|[0-9]%|[1-9][0-9]%|100%)$/, 'must be a node count or a percentage such as 0, 5 or 25%').default('25%').describe('SSM MaxErrors: failed nodes after which SSM stops sending the command to further nodes.'),
        commandDeliveryTimeoutSeconds: z.number().int().min(30).max(2592000).default(600).describe('SSM TimeoutSeconds: how long a node may take to start a command.'),
        commandExecutionTimeoutSeconds: z.number().int().min(60).max(172800).default(3600).describe('How long one copy/delete may run on a node (large models take minutes).'),
        alarmActions: z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'must be an SNS topic ARN')).default([]).describe('SNS topics notified by the model-sync alarms (DLQ depth, function errors, failed node commands).'),
        logKmsKeyArn: kmsKeyArn.optional().describe('KMS key ARN encrypting the model-sync log groups (Lambda, node command output, failed node commands). Unset: CloudWatch Logs default encryption. The key policy must allow logs.<region>.amazonaws.com.'),
      })
      .strict()
      .superRefine((s, ctx) => {
        if (s.batchSize > 10 && s.maxBatchingWindowSeconds < 1) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['maxBatchingWindowSeconds'], message: `must be at least 1 when batchSize is above 10 (SQS requires a batching window for batches over 10), got ${s.maxBatchingWindowSeconds}` });
        }
      })
      .default({}),
  })
  .strict();

// ---- elastic serving (KEDA): see docs/operations.md "Scaling"

const cronExpression = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

export const warmScheduleSchema = z
  .object({
    timezone: z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin or America/New_York' }).describe('IANA time zone the start and end times are in.'),
    start: cronExpression.describe('5-field cron expression: when the warm window opens, e.g. `0 8 * * 1-5`.'),
    end: cronExpression.describe('5-field cron expression: when it closes, e.g. `0 19 * * 1-5`.'),
    minReplicas: z.number().int().min(1, 'must be at least 1 (a warm window keeps replicas running)').max(100).default(1).describe('Replicas kept running inside the window.'),
  })
  .strict();

export const autoscalingSchema = z
  .object({
    mode: z
      .enum(['keda', 'manual'])
      .default('keda')
      .describe('`keda` (KEDA ScaledObject: scale to zero when idle, wake on the first request, scale out on ComfyUI queue depth) or `manual` (`app.replicas`, changed by hand or `helm upgrade`).'),
    minReplicas: z.number().int().min(0).max(100).default(0).describe('Fewest replicas outside warm windows; 0 lets the GPU nodes go away when idle.'),
    maxReplicas: z.number().int().min(1, 'must be at least 1').max(100).default(4).describe('Most replicas (each takes one GPU; at most karpenter.gpu.gpuLimit).'),
    idleMinutes: z
      .number()
      .int()
      .min(1, 'must be at least 1 (0 would stop the GPU between two requests)')
      .max(1440)
      .default(30)
      .describe('Scale to zero only after this many minutes with no request at the edge and every replica\'s ComfyUI queue (running + pending) empty.'),
    targetQueuePerReplica: z.number().int().min(1).max(100).default(2).describe('Scale out when the ComfyUI queue (running + pending, summed over all replicas) exceeds this per replica.'),
    pollingIntervalSeconds: z.number().int().min(5).max(60).default(10).describe('How often KEDA reads the wake queue and the metrics (bounds the wake signal latency; each poll of a CloudWatch trigger is one GetMetricData request).'),
    warmSchedules: z.array(warmScheduleSchema).max(10, 'must list at most 10 windows').default([]).describe('Cron windows keeping GPUs warm (e.g. working hours): timezone, start, end, minReplicas.'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.minReplicas > a.maxReplicas) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['minReplicas'], message: `must be <= maxReplicas (${a.maxReplicas}), got ${a.minReplicas}` });
    }
    a.warmSchedules.forEach((w, i) => {
      if (w.minReplicas > a.maxReplicas) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['warmSchedules', i, 'minReplicas'], message: `must be <= maxReplicas (${a.maxReplicas}), got ${w.minReplicas}` });
      }
    });
  })
  .describe('Elastic serving with KEDA (mode `keda`): replicas follow use, zero when idle.');

export const kedaSchema = z
  .object({
    version: semverish('2.21.1').default('2.21.1').describe('KEDA chart and operator version (https://kedacore.github.io/charts); the CRD schemas the chart tests use come from the same version (scripts/install-tools.sh).'),
    namespace: k8sName.default('keda').describe('Namespace of the KEDA operator.'),
    operatorServiceAccount: k8sName.default('keda-operator').describe('Service account of the KEDA operator (Pod Identity association: reads the wake queue and CloudWatch metrics).'),
  })
  .strict()
  .describe('KEDA, installed by the cluster-addons stack when app.autoscaling.mode is keda.');

export const appSchema = z
  .object({
    namespace: k8sName.default('comfyui').describe('Namespace of the ComfyUI release.'),
    serviceAccount: k8sName.default('comfyui').describe('Service account of ComfyUI pods (Pod Identity association).'),
    releaseName: k8sName.default('comfyui').describe('Helm release name.'),
    port: z.number().int().min(1024).max(65535).default(8188).describe('ComfyUI HTTP port.'),
    replicas: z.number().int().min(0).max(100).default(1).describe('Initial replicas in autoscaling mode `manual` (helm owns it after install); ignored in mode `keda`.'),
    imageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a container image tag').refine((t) => t !== 'latest', 'must be pinned, not latest').default('v0.3.66').describe('Initial ComfyUI image tag (helm owns it after install).'),
    ecrKeepImages: z.number().int().min(1).max(1000).default(30).describe('Images kept in the ECR repository.'),
    outputsExpireDays: z.number().int().min(0).default(0).describe('Expire generated outputs after N days (0: keep).'),
    inputsExpireDays: z.number().int().min(0).default(30).describe('Expire uploaded inputs after N days (0: keep).'),
    inputsWritable: z.boolean().default(false).describe('Let ComfyUI write the inputs bucket (image uploads from the UI). Off: the ComfyUI role only reads it and the chart mounts it read-only.'),
    releaseOwner: z
      .enum(['helm', 'terraform'])
      .default('helm')
      .describe('Owner of the ComfyUI helm release after the first install: `helm` (Terraform installs it once and then ignores it; ship changes with `make values` + `helm upgrade`) or `terraform` (every apply re-applies the chart and values, undoing `helm upgrade` changes).'),
    autoscaling: autoscalingSchema.default({}),
  })
  .strict();

/** Words Cognito refuses in a user pool domain prefix. */
export const COGNITO_DOMAIN_RESERVED_WORDS = ['aws', 'amazon', 'cognito'] as const;

const cognitoDomainPrefix = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen')
  .refine((p) => !COGNITO_DOMAIN_RESERVED_WORDS.some((w) => p.includes(w)), `must not contain ${COGNITO_DOMAIN_RESERVED_WORDS.join(', ')} (Cognito reserves them)`);

const emailAddress = z.string().regex(/^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/, 'must be an email address').max(254, 'must be at most 254 characters');

const cognitoAuth = z
  .object({
    domainPrefix: cognitoDomainPrefix
      .optional()
      .describe('Prefix of the Cognito login domain https://<prefix>.auth.<region>.amazoncognito.com; unique per region across all AWS accounts. Unset: <name>-<environment>- plus a hash of account, region and name (stable, does not reveal the account id).'),
    mfa: z
      .enum(['off', 'optional', 'required'])
      .default('optional')
      .describe('TOTP (authenticator app) MFA: `off`, `optional` (each user may enrol) or `required` (every user enrols at first sign-in).'),
    threatProtection: z
      .enum(['off', 'audit', 'enforced'])
      .default('off')
      .describe('Cognito threat protection (compromised credentials, adaptive authentication). `audit` or `enforced` put the user pool on the Plus feature plan (charged per monthly active user, no free tier); `off` keeps Essentials.'),
    passwordMinLength: z.number().int().min(8).max(99).default(12).describe('Minimum password length (upper and lower case letters, digits and symbols are required too).'),
    sessionHours: z.number().int().min(1).max(168).default(12).describe('Lifetime of the ALB authentication session cookie; after it the browser signs in again (the ALB allows at most 7 days).'),
    sessionCookieName: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')
      .default('comfyui-auth')
      .describe('Name of the ALB session cookie (the ALB appends -0, -1, ... when it splits a large session).'),
    deletionProtection: z.boolean().default(true).describe('Deletion protection on the user pool (its users and MFA enrolments cannot be recreated); `destroy` needs it off and applied first.'),
    invitedUsers: z
      .array(emailAddress)
      .default([])
      .describe('Email addresses invited as users: Cognito emails each a temporary password (never put passwords in config). Users created with aws cognito-idp admin-create-user are left alone.'),
    apiClients: z
      .array(z.unknown())
      .max(0, 'removed: API clients are created with scripts/edge-cognito.sh api-create (their secrets never enter Terraform state); create each with it and delete this list (docs/edge.md)')
      .optional()
      .describe('Removed (must be absent or empty): create API clients with scripts/edge-cognito.sh api-create, which keeps their secrets out of Terraform state.'),
    apiTokenMinutes: z.number().int().min(5).max(1440).default(60).describe('Lifetime of the access tokens of API clients scripts/edge-cognito.sh api-create makes (5-1440 minutes); scripts reuse a token until it expires.'),
  })
  .strict();

export const edgeSchema = z
  .object({
    auth: z
      .object({
        mode: z.enum(['basic', 'cognito', 'none']).default('basic').describe('`basic` (CloudFront Function + KeyValueStore), `cognito` (Cognito user pool; the ALB signs browsers in and verifies API bearer tokens), or `none`.'),
        acknowledgeUnauthenticated: z.boolean().default(false).describe('Must be true for mode `none`: anyone with the URL can spend GPU hours.'),
        users: z
          .array(z.unknown())
          .max(0, 'removed: Basic-auth users are written only by scripts/edge-user.sh put (generated passwords), so no password hash or secret sits in Terraform state; add each user with it and delete this list (docs/edge.md)')
          .optional()
          .describe('Removed (must be absent or empty): add users with scripts/edge-user.sh put, which keeps them out of Terraform state.'),
        realm: z.string().regex(/^[A-Za-z0-9 ._-]{1,64}$/, 'must be 1-64 letters, digits, spaces or . _ -').default('ComfyUI').describe('Realm the browser shows in its Basic-auth prompt.'),
        sessionHours: z.number().int().min(1).max(168).default(12).describe('Lifetime of the signed session cookie a browser gets after Basic login (lets Safari open the WebSocket).'),
        cognito: cognitoAuth.default({}).describe('Mode `cognito`: user pool and login (the ALB authenticates; needs edge.customDomain and edge.alb.https). App clients come from scripts/edge-cognito.sh.'),
      })
      .strict()
      .default({}),
    alb: z
      .object({
        deletionProtection: z.boolean().default(false).describe('Deletion protection on the internal ALB (turn on in production; `destroy` then needs it off first).'),
        idleTimeoutSeconds: z.number().int().min(60).max(4000).default(4000).describe('ALB idle timeout; the progress WebSocket dies at the 60 s AWS default, 4000 is the maximum.'),
        deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(600).describe('How long a deregistering pod keeps its connections (lets running generations report back).'),
        healthCheckPath: z.string().regex(/^\/[A-Za-z0-9_.\/-]*$/, 'must be an absolute URL path').default('/system_stats').describe('ComfyUI path the target group health check requests (expects HTTP 200).'),
        allowFrom: z.enum(['vpc-origin-security-group', 'cloudfront-prefix-list']).default('vpc-origin-security-group').describe('Source allowed into the ALB: the `CloudFront-VPCOrigins-Service-SG` CloudFront creates in the VPC (tightest), or the CloudFront origin-facing managed prefix list.'),
        https: z
          .object({
            certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[a-f0-9-]+$/, 'must be an ACM certificate ARN in the deployment region').describe('Regional ACM certificate for the ALB HTTPS listener.'),
            originDomainName: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, 'must be a DNS name').describe('DNS name covered by the certificate; CloudFront connects with it as SNI and Host.'),
          })
          .strict()
          .optional()
          .describe('Optional: TLS from CloudFront to the ALB (HTTPS listener on 443). Unset: HTTP on port 80 inside the VPC.'),
      })
      .strict()
      .default({}),
    cloudfront: z
      .object({
        originReadTimeoutSeconds: z.number().int().min(1).max(180).default(60).describe('How long CloudFront waits for a response from the ALB; above 60 needs a raised CloudFront quota.'),
        originKeepaliveTimeoutSeconds: z.number().int().min(1).max(180).default(60).describe('How long CloudFront keeps an idle origin connection; above 60 needs a raised CloudFront quota.'),
      })
      .strict()
      .default({}),
    customDomain: z
      .object({
        domainName: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, 'must be a DNS name').describe('Host name users open, e.g. comfy.example.com (CNAME it to the distribution).'),
        certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[a-f0-9-]+$/, 'must be an ACM certificate ARN in us-east-1').describe('ACM certificate covering domainName, in us-east-1 (CloudFront requirement).'),
      })
      .strict()
      .optional()
      .describe('Optional custom domain; the certificate must be in us-east-1.'),
    waf: z
      .object({
        enabled: z.boolean().default(false).describe('Attach a WAF web ACL to CloudFront.'),
        allowCidrs: z.array(anyCidr).default([]).describe('If non-empty, only these client CIDRs are allowed.'),
        managedRuleGroups: z.array(z.string().regex(/^AWSManagedRules[A-Za-z0-9]+$/)).default(['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesAmazonIpReputationList']).describe('AWS managed rule groups.'),
        rateLimit: z
          .object({
            enabled: z.boolean().default(true).describe('Block a client IP that sends more than `requests` in `windowSeconds` (WAF rate-based rule). With auth.mode basic this creates a web ACL even when waf.enabled is false (about 6 USD a month plus 0.60 USD per million requests).'),
            requests: z.number().int().min(10).max(2000000000).default(3000).describe('Requests per client IP per window before WAF blocks it (all requests: WAF runs before the edge function, so it cannot see which ones fail authentication). A UI session stays far below the default.'),
            windowSeconds: z.union([z.literal(60), z.literal(120), z.literal(300), z.literal(600)]).default(300).describe('Evaluation window of the rate-based rule (60, 120, 300 or 600).'),
          })
          .strict()
          .default({})
          .describe('Per-IP rate limit: on by default in auth.mode basic (password guessing, cost).'),
      })
      .strict()
      .default({}),
    priceClass: z.enum(['PriceClass_100', 'PriceClass_200', 'PriceClass_All']).default('PriceClass_100').describe('CloudFront price class.'),
    logExpireDays: z.number().int().min(1).default(90).describe('Expiry of CloudFront and ALB access logs.'),
  })
  .strict()
  .superRefine((edge, ctx) => {
    if (edge.auth.mode === 'none' && !edge.auth.acknowledgeUnauthenticated) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['auth', 'acknowledgeUnauthenticated'], message: 'must be true to set auth.mode to none (an open URL lets anyone spend the GPU budget)' });
    }
    if (edge.auth.mode === 'cognito') {
      // The ALB builds the OAuth redirect from the viewer's Host, which must be a name on its certificate (not *.cloudfront.net).
      if (!edge.customDomain) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['customDomain'], message: 'must be set when auth.mode is cognito: the login callback is https://<customDomain>/oauth2/idpresponse and the ALB certificate must cover that name' });
      }
      if (!edge.alb.https) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['alb', 'https'], message: 'must be set when auth.mode is cognito: the ALB authenticates users only on an HTTPS listener (its certificate must also cover customDomain.domainName)' });
      }
    }
    const duplicate = (list: readonly string[], field: string, normalise: (v: string) => string) => {
      const seen = new Set<string>();
      list.forEach((value, index) => {
        const key = normalise(value);
        if (seen.has(key)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['auth', 'cognito', field, index], message: `must be unique, ${value} is listed twice` });
        seen.add(key);
      });
    };
    duplicate(edge.auth.cognito.invitedUsers, 'invitedUsers', (v) => v.toLowerCase());
  });

// ---------------------------------------------------------- observability

/**
 * On-Demand Linux list prices (USD per hour, us-east-1, the AWS price list
 * of 2025) of the default GPU families. The spend line is an estimate:
 * override with your region's and contract's prices.
 */
export const DEFAULT_GPU_PRICES: Readonly<Record<string, { onDemand: number; spot?: number }>> = {
  'g4dn.xlarge': { onDemand: 0.526 }, 'g4dn.2xlarge': { onDemand: 0.752 }, 'g4dn.4xlarge': { onDemand: 1.204 }, 'g4dn.8xlarge': { onDemand: 2.176 },
  'g4dn.12xlarge': { onDemand: 3.912 }, 'g4dn.16xlarge': { onDemand: 4.352 }, 'g4dn.metal': { onDemand: 7.824 },
  'g5.xlarge': { onDemand: 1.006 }, 'g5.2xlarge': { onDemand: 1.212 }, 'g5.4xlarge': { onDemand: 1.624 }, 'g5.8xlarge': { onDemand: 2.448 },
  'g5.12xlarge': { onDemand: 5.672 }, 'g5.16xlarge': { onDemand: 4.096 }, 'g5.24xlarge': { onDemand: 8.144 }, 'g5.48xlarge': { onDemand: 16.288 },
  'g6.xlarge': { onDemand: 0.8048 }, 'g6.2xlarge': { onDemand: 0.9776 }, 'g6.4xlarge': { onDemand: 1.3232 }, 'g6.8xlarge': { onDemand: 2.0144 },
  'g6.12xlarge': { onDemand: 4.6016 }, 'g6.16xlarge': { onDemand: 3.3968 }, 'g6.24xlarge': { onDemand: 6.6752 }, 'g6.48xlarge': { onDemand: 13.3504 },
  'g6e.xlarge': { onDemand: 1.861 }, 'g6e.2xlarge': { onDemand: 2.242 }, 'g6e.4xlarge': { onDemand: 3.004 }, 'g6e.8xlarge': { onDemand: 4.529 },
  'g6e.12xlarge': { onDemand: 10.493 }, 'g6e.16xlarge': { onDemand: 7.577 }, 'g6e.24xlarge': { onDemand: 15.066 }, 'g6e.48xlarge': { onDemand: 30.131 },
};

const usdPerHour = z.number().positive('must be a positive price in USD per hour').max(1000, 'must be at most 1000 USD per hour');
const fiveMinuteWindow = (what: string) => z.number().int().min(5).max(1440).refine((m) => m % 5 === 0, `must be a multiple of 5 (${what} is judged on 5-minute periods)`);

export const observabilitySchema = z
  .object({
    enabled: z.boolean().default(true).describe('Create the observability stack: one CloudWatch dashboard, the platform alarms and their SNS topic, GPU metrics (Container Insights) and the capacity publisher.'),
    alarmEmails: z.array(emailAddress).default([]).describe('Email addresses subscribed to the alarm topic(s); each confirms by the link AWS sends (twice when the deployment is outside us-east-1: the edge alarms notify a topic there).'),
    gpuMetrics: z
      .object({
        enabled: z.boolean().default(true).describe('Install the amazon-cloudwatch-observability EKS add-on (Container Insights with enhanced observability, NVIDIA GPU metrics per node and pod).'),
        addonVersion: eksAddonVersion.default('v4.5.0-eksbuild.1').describe('amazon-cloudwatch-observability add-on version (aws eks describe-addon-versions --addon-name amazon-cloudwatch-observability).'),
        containerLogs: z.boolean().default(false).describe('Also ship container stdout/stderr to CloudWatch Logs (Fluent Bit; billed per GB ingested).'),
        logRetentionDays: retentionDays.default(7).describe('Retention of the /aws/containerinsights/<cluster>/* log groups.'),
      })
      .strict()
      .default({}),
    cloudFrontAdditionalMetrics: z.boolean().default(true).describe('Turn on CloudFront additional metrics (origin latency, 401 rate for auth failures; billed as 8 custom metrics per distribution).'),
    gpuPrices: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be keyed by EC2 instance type such as g6.xlarge'), z.object({ onDemand: usdPerHour, spot: usdPerHour.optional() }).strict())
      .default({ ...DEFAULT_GPU_PRICES })
      .describe('USD per hour by GPU instance type for the ESTIMATED spend line (default: us-east-1 On-Demand list prices of the default families). A type the GPU NodePools may launch without a price here is counted in UnpricedGpuNodes and left out of the estimate (synth warns).'),
    spotPriceRatio: z.number().gt(0, 'must be above 0').max(1, 'must be at most 1 (Spot is never above On-Demand here)').default(0.4).describe('Spot price as a fraction of On-Demand for types without a spot price in gpuPrices.'),
    publisherLogRetentionDays: retentionDays.default(14).describe('Retention of the capacity publisher Lambda log group.'),
    alarms: z
      .object({
        nodeNotReadyMinutes: fiveMinuteWindow('node readiness').default(15).describe('Alarm when a GPU node reports NodeModelsReady 0 for this long.'),
        idleGpuMinutes: fiveMinuteWindow('idleness').default(60).describe('Alarm when GPU nodes run this long with nothing queued or running.'),
        edge5xxRatePercent: z.number().gt(0, 'must be above 0').max(100, 'must be at most 100').default(5).describe('Alarm when this percentage of edge requests fail with 5xx (2 of 3 five-minute periods).'),
        edge5xxMinRequests: z.number().int().min(1).default(20).describe('Requests per 5 minutes below which the 5xx rate is not judged (one failed request of two is not an outage).'),
        spotInterruptionsPer15Minutes: z.number().int().min(1).default(3).describe('Spot interruption warnings within 15 minutes that make a storm.'),
      })
      .strict()
      .default({}),
  })
  .strict();

// ---- jobs (batch jobs API, docs/jobs.md) ----
export const jobsSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Create the jobs stack: SQS jobs queue + DLQ, DynamoDB jobs table, EventBridge bus, KMS key, worker ECR repository and policies. The chart runs the worker only with jobs.enabled in its values.'),
    maxAttempts: z.number().int().min(1).max(10).default(3).describe('Runs of a job that fails transiently (ComfyUI unreachable, timeout, Spot interruption) before it fails and moves to the DLQ. Poison jobs (rejected workflow, execution error) fail on the first attempt.'),
    visibilityTimeoutSeconds: z.number().int().min(30).max(43200).default(120).describe('Visibility timeout (and worker lease) of a received job; the worker renews it every quarter of it while the job runs, so a dead worker\'s job is retried after at most this long.'),
    messageRetentionDays: z.number().int().min(1).max(14).default(14).describe('How long a queued job waits for a worker before SQS drops it (the DLQ keeps messages 14 days).'),
    alarmActions: z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, 'must be an SNS topic ARN')).default([]).describe('SNS topics notified when the jobs DLQ holds messages.'),
    deletionProtection: z.boolean().default(true).describe('Deletion protection on the jobs table (job history cannot be recreated); `destroy` needs it off and applied first (README, Tear down).'),
  })
  .strict();

export const configSchema = z
  .object({
    name: dnsLabel(20).default('comfyui').describe('Name prefix of every resource (lowercase, max 20 characters).'),
    environment: dnsLabel(16).default('dev').describe('Environment tag and name suffix (dev, staging, prod, ...).'),
    region: region.default('us-west-2').describe('AWS region of the deployment.'),
    tags: z.record(z.string().regex(/^[\w .:/=+@-]{1,128}$/, 'must be a valid AWS tag key'), z.string().max(256)).default({}).describe('Extra tags on every resource.'),
    state: stateSchema.default({}),
    network: networkSchema.default({}),
    cluster: clusterSchema.default({}),
    karpenter: karpenterSchema.default({}),
    models: modelsSchema.default({}),
    app: appSchema.default({}),
    edge: edgeSchema.default({}),
    observability: observabilitySchema.default({}),
    keda: kedaSchema.default({}),
    jobs: jobsSchema.default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const n = cfg.cluster.systemNodes;
    if (n.minSize > n.desiredSize || n.desiredSize > n.maxSize) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cluster', 'systemNodes'], message: `must satisfy minSize <= desiredSize <= maxSize, got ${n.minSize}/${n.desiredSize}/${n.maxSize}` });
    }
    // Bucket names are <name>-<environment>-<purpose>-<account>-<region>; S3 caps names at 63.
    const longestBucketName = `${cfg.name}-${cfg.environment}-outputs-123456789012-${cfg.region}`.length;
    if (longestBucketName > 63) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['name'], message: `name, environment and region are too long together: bucket names would be ${longestBucketName} characters (S3 allows 63); shorten name or environment by ${longestBucketName - 63}` });
    }
    const both = cfg.cluster.viewerPrincipalArns.filter((arn) => cfg.cluster.adminPrincipalArns.includes(arn));
    if (both.length > 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cluster', 'viewerPrincipalArns'], message: `must not repeat a principal of cluster.adminPrincipalArns (one access entry per principal): ${both.join(', ')}` });
    }
    const kubeProxyMinor = /^v(\d+\.\d+)\./.exec(cfg.cluster.addons.kubeProxy)?.[1];
    if (kubeProxyMinor !== cfg.cluster.kubernetesVersion) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cluster', 'addons', 'kubeProxy'], message: `must be a build for Kubernetes ${cfg.cluster.kubernetesVersion} (v${cfg.cluster.kubernetesVersion}.x-eksbuild.N) to match cluster.kubernetesVersion, got ${cfg.cluster.addons.kubeProxy}` });
    }
    const architectures = new Set(cfg.cluster.systemNodes.instanceTypes.map(instanceArchitecture));
    if (architectures.size > 1) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cluster', 'systemNodes', 'instanceTypes'], message: `must all be x86_64 or all arm64 (Graviton), one node group has one AMI type; got ${cfg.cluster.systemNodes.instanceTypes.join(', ')}` });
    }
    const albCertificate = cfg.edge.alb.https?.certificateArn;
    if (albCertificate && albCertificate.split(':')[3] !== cfg.region) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['edge', 'alb', 'https', 'certificateArn'], message: `must be an ACM certificate in the deployment region ${cfg.region} (the ALB uses it), got one in ${albCertificate.split(':')[3]}` });
    }
    if (cfg.edge.auth.mode === 'cognito' && cfg.edge.auth.cognito.domainPrefix === undefined) {
      const derived = `${cfg.name}-${cfg.environment}`;
      const reserved = COGNITO_DOMAIN_RESERVED_WORDS.find((w) => derived.includes(w));
      if (reserved) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['edge', 'auth', 'cognito', 'domainPrefix'], message: `must be set: the derived prefix ${derived}-... contains "${reserved}", which Cognito refuses in domain prefixes` });
      }
    }
    if (cfg.app.autoscaling.mode === 'keda' && cfg.app.autoscaling.maxReplicas > cfg.karpenter.gpu.gpuLimit) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['app', 'autoscaling', 'maxReplicas'], message: `must be <= karpenter.gpu.gpuLimit (${cfg.karpenter.gpu.gpuLimit}): each replica takes one GPU, got ${cfg.app.autoscaling.maxReplicas}` });
    }
    if (cfg.karpenter.gpu.minGpus > cfg.karpenter.gpu.maxGpus) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['karpenter', 'gpu', 'minGpus'], message: `must be <= karpenter.gpu.maxGpus (${cfg.karpenter.gpu.maxGpus}), got ${cfg.karpenter.gpu.minGpus}` });
    }
    const eligible = eligibleGpuInstanceTypes(cfg.karpenter.gpu);
    if (cfg.karpenter.gpu.minGpus <= cfg.karpenter.gpu.maxGpus && eligible.length < MIN_SPOT_TO_SPOT_TYPES) {
      const names = eligible.length > 0 ? eligible.map((t) => t.type).join(', ') : 'none';
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['karpenter', 'gpu', 'instanceFamilies'],
        message: `leaves ${eligible.length} eligible GPU instance types with ${cfg.karpenter.gpu.minGpus}-${cfg.karpenter.gpu.maxGpus} GPUs (${names}); Karpenter's Spot-to-Spot consolidation needs at least ${MIN_SPOT_TO_SPOT_TYPES}, so add families, widen karpenter.gpu.minGpus/maxGpus or lower karpenter.gpu.minLocalNvmeGB (${cfg.karpenter.gpu.minLocalNvmeGB} GB)`,
      });
    }
  });

/** Raw input, as written in a config file (every field optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** Validated configuration with every default applied. */
export type PlatformConfig = z.output<typeof configSchema>;
