/**
 * Base class of every stack: one AWS provider with the project's default tags,
 * and the configured state backend. Stacks derive from it and compose
 * constructs; they hold little logic of their own.
 */
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { defaultTags, PlatformConfig, resourcePrefix } from '../config';

/** Props every stack takes. */
export interface PlatformStackProps {
  /** The validated platform configuration. */
  readonly config: PlatformConfig;
}

export class PlatformStack extends TerraformStack {
  /** The validated platform configuration. */
  public readonly config: PlatformConfig;
  /** `<name>-<environment>`, the prefix of every resource name. */
  public readonly prefix: string;
  /** The stack's AWS provider (default tags and region from config). */
  public readonly awsProvider: AwsProvider;
  private account?: string;
  private awsPartition?: string;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    this.config = props.config;
    this.prefix = resourcePrefix(props.config);
    configureBackend(this, id, props.config);
    this.awsProvider = new AwsProvider(this, 'aws', {
      region: props.config.region,
      defaultTags: [{ tags: defaultTags(props.config) }],
    });
  }

  /** Account id of the deployment (one caller-identity lookup per stack, made on first use). */
  public get accountId(): string {
    return (this.account ??= new DataAwsCallerIdentity(this, 'Account').accountId);
  }

  /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`) for ARNs (one lookup per stack, made on first use). */
  public get partition(): string {
    return (this.awsPartition ??= new DataAwsPartition(this, 'Partition').partition);
  }
}

/**
 * Local state by default; S3 with Terraform's native lockfile (no DynamoDB
 * table) when `state.bucket` is set. The local path is relative to the stack's
 * working directory (cdktf.out/stacks/<id>) so the output is the same on every
 * machine and state files sit in the project root.
 */
export function configureBackend(stack: TerraformStack, id: string, config: PlatformConfig): void {
  if (config.state.bucket) {
    const backend = new S3Backend(stack, {
      bucket: config.state.bucket,
      key: `${config.state.keyPrefix}/${config.environment}/${id}.tfstate`,
      region: config.state.region ?? config.region,
      encrypt: true,
    });
    // cdktf 0.21 has no typed field for it; Terraform >= 1.10 supports it.
    backend.addOverride('use_lockfile', true);
  } else {
    new LocalBackend(stack, { path: `../../../terraform.${id}.tfstate` });
  }
}
