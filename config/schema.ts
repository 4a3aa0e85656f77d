/**
 * The typed configuration of the platform.
 *
 * Every field has a default, so `make synth` needs no input at all. Objects
 * are strict: an unknown (for example misspelt) key is an error, not ignored.
 * docs/configuration.md is generated from the `.describe()` texts here by
 * `make docs` (scripts/gen-config-docs.ts); a test keeps it up to date.
 */
import { z } from 'zod';

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
      (parsed.prefix === 0 || (parsed.address & (~0 << (32 - parsed.prefix)) >>> 0) === parsed.address);
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

/** NVIDIA GPU instance families with local NVMe instance store (see config/gpu-instance-types.ts). */
export const NVIDIA_NVME_FAMILIES = ['g4dn', 'g5', 'g6', 'g6e', 'gr6', 'p4d', 'p4de', 'p5', 'p5e', 'p5en', 'p6-b200'] as const;

// ---------------------------------------------------------------- sections

export const stateSchema = z
  .object({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
      .optional()
      .describe('S3 bucket for Terraform state. Unset: local state files under terraform.<stack>.tfstate.'),
    keyPrefix: z.string().regex(/^[A-Za-z0-9_.\/-]*$/, 'must be an S3 key prefix without spaces').default('comfyui').describe('Key prefix in the state bucket; each stack is stored at <prefix>/<stack>.tfstate.'),
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
  })
  .strict();

export const clusterSchema = z
  .object({
    kubernetesVersion: z.string().regex(/^1\.\d{2}$/, 'must be a Kubernetes minor version such as 1.33').default('1.33').describe('EKS Kubernetes version.'),
    adminPrincipalArns: z.array(iamPrincipalArn).default([]).describe('IAM principals given AmazonEKSClusterAdminPolicy through access entries.'),
    endpointPublicAccess: z.boolean().default(true).describe('Expose the API endpoint publicly (private access is always on).'),
    publicAccessCidrs: z.array(anyCidr).min(1, 'must list at least one CIDR').default(['0.0.0.0/0']).describe('CIDRs allowed to reach the public API endpoint. Narrow this in production.'),
    logRetentionDays: retentionDays.default(30).describe('Retention of control-plane logs.'),
    systemNodes: z
      .object({
        instanceTypes: z.array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as m7i.large')).min(1).default(['m7i.large', 'm6i.large']).describe('Instance types of the system node group (controllers only).'),
        minSize: z.number().int().min(1).default(2).describe('Minimum system nodes.'),
        desiredSize: z.number().int().min(1).default(2).describe('Desired system nodes.'),
        maxSize: z.number().int().min(1).default(4).describe('Maximum system nodes.'),
        rootVolumeGiB: z.number().int().min(20).max(1000).default(50).describe('Encrypted gp3 root volume size.'),
      })
      .strict()
      .default({}),
    addons: z
      .object({
        vpcCni: eksAddonVersion.default('v1.20.4-eksbuild.2').describe('vpc-cni add-on version.'),
        coreDns: eksAddonVersion.default('v1.12.1-eksbuild.2').describe('coredns add-on version.'),
        kubeProxy: eksAddonVersion.default('v1.33.3-eksbuild.4').describe('kube-proxy add-on version.'),
        podIdentityAgent: eksAddonVersion.default('v1.3.8-eksbuild.2').describe('eks-pod-identity-agent add-on version.'),
        mountpointS3Csi: eksAddonVersion.default('v2.0.0-eksbuild.1').describe('aws-mountpoint-s3-csi-driver add-on version.'),
      })
      .strict()
      .default({}),
  })
  .strict();

export const karpenterSchema = z
  .object({
    version: semverish('1.8.1').default('1.8.1').describe('Karpenter chart and controller version (oci://public.ecr.aws/karpenter/karpenter).'),
    namespace: k8sName.default('kube-system').describe('Namespace of the Karpenter controller.'),
    serviceAccount: k8sName.default('karpenter').describe('Service account of the Karpenter controller (Pod Identity association).'),
    amiAlias: z.string().regex(/^al2023@v\d{8}$/, 'must be a pinned AL2023 alias such as al2023@v20251120 (not @latest)').default('al2023@v20251120').describe('EC2NodeClass AMI alias, pinned. Roll forward by changing it.'),
    gpu: z
      .object({
        instanceFamilies: z
          .array(z.string().refine((f) => (NVIDIA_NVME_FAMILIES as readonly string[]).includes(f), { message: `must be an NVIDIA GPU instance family with local NVMe (${NVIDIA_NVME_FAMILIES.join(', ')})` }))
          .min(1, 'must list at least one family')
          .default(['g4dn', 'g5', 'g6', 'g6e'])
          .describe('Instance families the GPU NodePool may use.'),
        minGpus: z.number().int().min(1).max(8).default(1).describe('Minimum GPUs per node.'),
        maxGpus: z.number().int().min(1).max(8).default(4).describe('Maximum GPUs per node.'),
        gpuLimit: z.number().int().min(1).default(16).describe('NodePool limit: total GPUs.'),
        cpuLimit: z.number().int().min(1).default(512).describe('NodePool limit: total vCPUs.'),
        consolidateAfter: duration.default('10m').describe('How long a node must be empty/underutilised before consolidation.'),
        expireAfter: duration.default('720h').describe('Maximum node lifetime.'),
        rootVolumeGiB: z.number().int().min(50).max(2000).default(150).describe('Encrypted gp3 root volume of GPU nodes.'),
      })
      .strict()
      .default({}),
    nvidiaDevicePluginVersion: semverish('0.17.4').default('0.17.4').describe('NVIDIA device plugin chart version.'),
    dcgmExporter: z
      .object({
        enabled: z.boolean().default(false).describe('Install the NVIDIA DCGM exporter for GPU metrics.'),
        version: semverish('4.6.0').default('4.6.0').describe('dcgm-exporter chart version.'),
      })
      .strict()
      .default({}),
    loadBalancerControllerVersion: semverish('1.14.1').default('1.14.1').describe('AWS Load Balancer Controller chart version.'),
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
    reconcileIntervalMinutes: z.number().int().min(1).max(1440).default(5).describe('How often every node reconciles its models with the bucket.'),
    parallelDownloads: z.number().int().min(1).max(32).default(4).describe('Model files a GPU node downloads at once in a full sync (each file already uses the multipart CRT client).'),
    syncLambda: z
      .object({
        batchSize: z.number().int().min(1).max(100).default(100).describe('SQS records per Lambda invocation.'),
        maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(5).describe('How long SQS gathers a batch.'),
        maxReceiveCount: z.number().int().min(1).max(20).default(5).describe('Deliveries before a message goes to the DLQ.'),
        logRetentionDays: retentionDays.default(30).describe('Retention of the Lambda log group.'),
      })
      .strict()
      .default({}),
  })
  .strict();

export const appSchema = z
  .object({
    namespace: k8sName.default('comfyui').describe('Namespace of the ComfyUI release.'),
    serviceAccount: k8sName.default('comfyui').describe('Service account of ComfyUI pods (Pod Identity association).'),
    releaseName: k8sName.default('comfyui').describe('Helm release name.'),
    port: z.number().int().min(1024).max(65535).default(8188).describe('ComfyUI HTTP port.'),
    replicas: z.number().int().min(0).max(100).default(1).describe('Initial replicas (helm owns it after install).'),
    imageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a container image tag').refine((t) => t !== 'latest', 'must be pinned, not latest').default('v0.3.66').describe('Initial ComfyUI image tag (helm owns it after install).'),
    ecrKeepImages: z.number().int().min(1).max(1000).default(30).describe('Images kept in the ECR repository.'),
    outputsExpireDays: z.number().int().min(0).default(0).describe('Expire generated outputs after N days (0: keep).'),
    inputsExpireDays: z.number().int().min(0).default(30).describe('Expire uploaded inputs after N days (0: keep).'),
  })
  .strict();

const authUser = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'must be 1-64 characters of letters, digits, . _ @ -'),
    passwordSha256: z.string().regex(/^[a-f0-9]{64}$/, 'must be the hex SHA-256 of "<username>:<password>" (scripts/edge-user.sh prints it)'),
  })
  .strict();

export const edgeSchema = z
  .object({
    auth: z
      .object({
        mode: z.enum(['basic', 'cognito', 'none']).default('basic').describe('`basic` (CloudFront Function + KeyValueStore), `cognito`, or `none`.'),
        acknowledgeUnauthenticated: z.boolean().default(false).describe('Must be true for mode `none`: anyone with the URL can spend GPU hours.'),
        users: z.array(authUser).default([]).describe('Basic-auth users seeded into the KeyValueStore.'),
      })
      .strict()
      .default({}),
    customDomain: z
      .object({
        domainName: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, 'must be a DNS name'),
        certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[a-f0-9-]+$/, 'must be an ACM certificate ARN in us-east-1'),
      })
      .strict()
      .optional()
      .describe('Optional custom domain; the certificate must be in us-east-1.'),
    waf: z
      .object({
        enabled: z.boolean().default(false).describe('Attach a WAF web ACL to CloudFront.'),
        allowCidrs: z.array(anyCidr).default([]).describe('If non-empty, only these client CIDRs are allowed.'),
        managedRuleGroups: z.array(z.string().regex(/^AWSManagedRules[A-Za-z0-9]+$/)).default(['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesAmazonIpReputationList']).describe('AWS managed rule groups.'),
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
  });

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
    if (cfg.karpenter.gpu.minGpus > cfg.karpenter.gpu.maxGpus) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['karpenter', 'gpu', 'minGpus'], message: `must be <= karpenter.gpu.maxGpus (${cfg.karpenter.gpu.maxGpus}), got ${cfg.karpenter.gpu.minGpus}` });
    }
  });

/** Raw input, as written in a config file (every field optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** Validated configuration with every default applied. */
export type PlatformConfig = z.output<typeof configSchema>;
