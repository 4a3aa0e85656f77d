/**
 * The ECR repository ComfyUI images are pushed to: tags are immutable (a tag
 * names one build forever, so `helm upgrade --set image.tag=` is
 * reproducible), every push is scanned, layers are encrypted with KMS, and a
 * lifecycle policy keeps the newest images only.
 */
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { Construct } from 'constructs';

export interface ImageRepositoryProps {
  /** Repository name, e.g. `comfyui-dev/comfyui`. */
  readonly name: string;
  /** Images (any tag) kept; older ones expire. */
  readonly keepImages: number;
  /** Days after which untagged images (interrupted pushes) expire. Default: 7. */
  readonly untaggedExpireDays?: number;
}

export class ImageRepository extends Construct {
  /** The repository resource. */
  public readonly repository: EcrRepository;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`. */
  public readonly repositoryUrl: string;
  /** Repository ARN. */
  public readonly repositoryArn: string;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    if (!Number.isInteger(props.keepImages) || props.keepImages < 1) {
      throw new Error(`ImageRepository ${props.name}: keepImages must be a positive integer, got ${props.keepImages}`);
    }
    const untaggedExpireDays = props.untaggedExpireDays ?? 7;

    this.repository = new EcrRepository(this, 'Repository', {
      name: props.name,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      // AWS-managed KMS key (aws/ecr): encrypted at rest, and nodes pull with ECR read access alone.
      encryptionConfiguration: [{ encryptionType: 'KMS' }],
      forceDelete: false,
    });
    this.repositoryUrl = this.repository.repositoryUrl;
    this.repositoryArn = this.repository.arn;

    new EcrLifecyclePolicy(this, 'Lifecycle', {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `Expire untagged images after ${untaggedExpireDays} days`,
            selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: untaggedExpireDays },
            action: { type: 'expire' },
          },
          {
            // ECR requires the `any` rule to have the lowest priority (highest number).
            rulePriority: 2,
            description: `Keep the ${props.keepImages} newest images`,
            selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: props.keepImages },
            action: { type: 'expire' },
          },
        ],
      }),
    });
  }
}
