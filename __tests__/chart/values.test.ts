/**
 * `helm lint --strict` on every ci values file, and bad values rejected by
 * values.schema.json (or the template checks for relations between fields)
 * with an error that names the field.
 */
import { readdirSync } from 'fs';
import { join } from 'path';
import { CHART, CI_DIR, DEFAULT_VALUES, HELM, renderError, requireTools, run } from './helm';

const ciFiles = readdirSync(CI_DIR).filter((f) => f.endsWith('-values.yaml')).sort();

beforeAll(() => requireTools());

describe('helm lint --strict', () => {
  it('has the ci cases the issue asks for', () => {
    expect(ciFiles).toEqual(expect.arrayContaining(['default-values.yaml', 'ingress-values.yaml', 'no-sidecar-values.yaml', 'replicas-values.yaml', 'generated-example-values.yaml']));
  });

  it('passes on every ci values file', async () => {
    const results = await Promise.all(ciFiles.map((file) => run(HELM, ['lint', '--strict', CHART, '-f', join(CI_DIR, file)])));
    results.forEach((result, i) => {
      expect({ file: ciFiles[i], code: result.code, output: result.code === 0 ? '' : result.stdout + result.stderr }).toEqual({ file: ciFiles[i], code: 0, output: '' });
    });
  });

  it('fails on the bare chart defaults, naming each required value', async () => {
    const result = await run(HELM, ['lint', '--strict', CHART]);
    expect(result.code).not.toBe(0);
    const output = result.stdout + result.stderr;
    for (const field of ['/image/repository', '/s3/region', '/s3/outputs/bucketName', '/s3/inputs/bucketName', '/exposure/targetGroupBinding/targetGroupArn', '/networkPolicy/ingressCidrs']) {
      expect(output).toContain(field);
    }
  });
});

describe('values.schema.json rejects bad values', () => {
  // [case, values merged over ci/default-values.yaml, the field the error must name, what it must say]
  const cases: [string, object, string, RegExp][] = [
    ['unknown top-level key', { replicas: 2 }, "additional properties 'replicas' not allowed", /additional properties/],
    ['unknown nested key', { image: { tags: 'v1' } }, "'tags'", /\/image/],
    ['latest image tag', { image: { tag: 'latest' } }, '/image/tag', /a pinned tag \(latest is not allowed/],
    ['latest sidecar tag', { videoSync: { image: { repository: 'registry.example/busybox', tag: 'latest', digest: `sha256:${'d'.repeat(64)}` } } }, '/videoSync/image/tag', /latest is not allowed/],
    ['malformed digest', { image: { digest: 'sha256:abc' } }, '/image/digest', /does not match pattern/],
    ['missing target group ARN in TargetGroupBinding mode', { exposure: { targetGroupBinding: { targetGroupArn: '' } } }, '/exposure/targetGroupBinding/targetGroupArn', /does not match pattern/],
    ['malformed target group ARN', { exposure: { targetGroupBinding: { targetGroupArn: 'arn:aws:s3:::bucket' } } }, '/exposure/targetGroupBinding/targetGroupArn', /pattern/],
    ['unknown exposure mode', { exposure: { mode: 'nodePort' } }, '/exposure/mode', /must be one of|value must be one of/],
    ['string replica count', { replicaCount: 'three' }, '/replicaCount', /got string, want integer/],
    ['boolean as string', { doNotDisrupt: 'sometimes' }, '/doNotDisrupt', /got string, want boolean/],
    ['zero GPUs', { resources: { gpu: 0 } }, '/resources/gpu', /minimum/],
    ['bad memory quantity', { resources: { memory: 'lots' } }, '/resources/memory', /pattern/],
    ['root user', { podSecurityContext: { runAsUser: 0 } }, '/podSecurityContext/runAsUser', /minimum/],
    ['bad bucket name', { s3: { outputs: { bucketName: 'Bad_Bucket' } } }, '/s3/outputs/bucketName', /pattern/],
    ['relative models path', { models: { hostPath: 'mnt/models' } }, '/models/hostPath', /pattern/],
    ['ALB idle timeout above the maximum', { exposure: { ingress: { idleTimeoutSeconds: 4001 } } }, '/exposure/ingress/idleTimeoutSeconds', /maximum/],
    ['bad CIDR', { networkPolicy: { ingressCidrs: ['10.2.0.0'] } }, '/networkPolicy/ingressCidrs/0', /pattern/],
    ['network policy without ingress CIDRs', { networkPolicy: { ingressCidrs: [] } }, '/networkPolicy/ingressCidrs', /minItems|minimum/],
    ['inputs enabled without a bucket', { s3: { inputs: { bucketName: '' } } }, '/s3/inputs/bucketName', /pattern/],
  ];

  it.each(cases)('%s', async (_name, values, field, message) => {
    const error = await renderError([DEFAULT_VALUES, values]);
    expect(error).toContain('values don\'t meet the specifications of the schema');
    expect(error).toContain(field);
    expect(error).toMatch(message);
  });

  it('accepts an empty target group ARN in ingress mode', async () => {
    const result = await run(HELM, ['template', 'comfyui', CHART, '-f', join(CI_DIR, 'ingress-values.yaml'), '--set', 'exposure.targetGroupBinding.targetGroupArn=']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('template checks for relations between fields', () => {
  it('rejects S3 mount ids that differ from the pod user', async () => {
    const error = await renderError([DEFAULT_VALUES, { s3: { uid: 2000 } }]);
    expect(error).toContain('s3.uid (2000) must equal podSecurityContext.runAsUser (10001)');
  });

  it('rejects colliding mount paths', async () => {
    const error = await renderError([DEFAULT_VALUES, { scratch: { mountPath: '/models' } }]);
    expect(error).toMatch(/models\.mountPath, s3\.outputs\.mountPath, s3\.inputs\.mountPath and scratch\.mountPath must differ/);
  });

  it('rejects an autoscaler whose minimum exceeds its maximum', async () => {
    const error = await renderError([DEFAULT_VALUES, { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } }]);
    expect(error).toContain('autoscaling.minReplicas (5) must be <= autoscaling.maxReplicas (2)');
  });
});
