/** kubernetes_* resources as the objects the kubernetes provider would create. */
import { awsQueueUrls, kubernetesManifest } from '../../scripts/e2e/in-cluster';

describe('kubernetesManifest', () => {
  it('turns a kubernetes_namespace_v1 (schema shape) into a Namespace', () => {
    expect(kubernetesManifest('kubernetes_namespace_v1', { metadata: [{ name: 'comfyui', labels: { 'app.kubernetes.io/part-of': 'comfyui' }, generate_name: null }], wait_for_default_service_account: false })).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'comfyui', labels: { 'app.kubernetes.io/part-of': 'comfyui' } },
    });
  });

  it('camel-cases fields but keeps label keys and data keys as written', () => {
    const cm = kubernetesManifest('kubernetes_config_map_v1', { metadata: [{ name: 'x', namespace: 'y' }], data: { some_key: 'v' } });
    expect(cm).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'y' }, data: { some_key: 'v' } });
    const sc = kubernetesManifest('kubernetes_storage_class_v1', { metadata: [{ name: 's' }], storage_provisioner: 'ebs.csi.aws.com', volume_binding_mode: 'WaitForFirstConsumer' });
    expect(sc).toMatchObject({ kind: 'StorageClass', storageProvisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer' });
  });

  it('passes kubernetes_manifest through and names the file to extend for an unknown type', () => {
    const manifest = { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'comfyui' } };
    expect(kubernetesManifest('kubernetes_manifest', { manifest })).toBe(manifest);
    expect(() => kubernetesManifest('kubernetes_daemon_set_v1', {})).toThrow(/KUBERNETES_KINDS in scripts\/e2e\/in-cluster\.ts/);
  });
});

describe('awsQueueUrls', () => {
  it("gives moto's queue URLs the form SQS returns, in strings and YAML values documents alike", () => {
    const endpoint = 'http://127.0.0.1:40351';
    const evaluated = {
      values: [`jobs:\n  queueUrl: ${endpoint}/123456789012/comfyui-dev-jobs\n  deadLetterQueueUrl: ${endpoint}/123456789012/comfyui-dev-jobs-dlq\n`],
      set: [{ name: 'autoscaling.keda.wakeQueueUrl', value: `${endpoint}/123456789012/comfyui-dev-wake` }],
      other: `${endpoint}/not-a-queue`,
    };
    expect(awsQueueUrls(evaluated, endpoint, 'us-west-2')).toEqual({
      values: ['jobs:\n  queueUrl: https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-jobs\n  deadLetterQueueUrl: https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-jobs-dlq\n'],
      set: [{ name: 'autoscaling.keda.wakeQueueUrl', value: 'https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-wake' }],
      other: `${endpoint}/not-a-queue`,
    });
  });
});
