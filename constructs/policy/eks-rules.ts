/**
 * EKS clusters encrypt Kubernetes secrets with a KMS key (envelope
 * encryption through `encryption_config`).
 */
import { PolicyFinding, PolicyRule } from './rule';
import { blocks, StackView, strings } from './stack-view';

export class EksSecretsEncryptionRule implements PolicyRule {
  public readonly id = 'COMFY-EKS-001';
  public readonly summary = 'Every EKS cluster has encryption_config with resources ["secrets"] and a KMS key ARN.';

  public check(view: StackView): PolicyFinding[] {
    return view
      .resourcesOfType('aws_eks_cluster')
      .filter((cluster) => {
        const encrypted = blocks(cluster.attributes.encryption_config).some(
          (c) => strings(c.resources).includes('secrets') && blocks(c.provider).some((p) => typeof p.key_arn === 'string' && p.key_arn.length > 0),
        );
        return !encrypted;
      })
      .map((cluster) => ({
        construct: cluster.construct,
        message: 'EKS cluster does not encrypt Kubernetes secrets: set encryptionConfig { resources: ["secrets"], provider: { keyArn } } with a customer-managed KMS key',
      }));
  }
}
