/**
 * What charts/comfyui renders for each toggle, read from `helm template`.
 * Every case is rendered once, in parallel, before the assertions.
 */
import { readdirSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { testConfig } from '../helpers/config';
import { CI_DIR, DEFAULT_VALUES, K8sObject, ofKind, one, render, requireTools } from './helm';

const CASES = {
  defaults: [DEFAULT_VALUES],
  ingress: [join(CI_DIR, 'ingress-values.yaml')],
  noSidecar: [join(CI_DIR, 'no-sidecar-values.yaml')],
  replicas: [join(CI_DIR, 'replicas-values.yaml')],
  autoscaling: [join(CI_DIR, 'autoscaling-values.yaml')],
  keda: [join(CI_DIR, 'keda-values.yaml')],
  generated: [join(CI_DIR, 'generated-example-values.yaml')],
  // What `make scan` renders and scans (scripts/scan.sh): the platform-owned values `make values` writes.
  scan: [join(CI_DIR, 'scan-values.yaml')],
  disruptible: [DEFAULT_VALUES, { doNotDisrupt: false, topologySpread: { enabled: false }, podDisruptionBudget: { enabled: false } }],
  writableInputs: [DEFAULT_VALUES, { s3: { inputs: { writable: true } } }],
  noNetworkPolicy: [DEFAULT_VALUES, { networkPolicy: { enabled: false } }],
  noServiceAccount: [DEFAULT_VALUES, { serviceAccount: { create: false } }],
  releaseNamedLikeChart: [DEFAULT_VALUES],
  // The batch jobs worker (jobs.*); its own assertions are in jobs.test.ts.
  jobs: [join(CI_DIR, 'jobs-values.yaml')],
} as const;

type CaseName = keyof typeof CASES;
const rendered = {} as Record<CaseName, K8sObject[]>;

beforeAll(async () => {
  requireTools();
  const names = Object.keys(CASES) as CaseName[];
  const results = await Promise.all(names.map((name) => render(CASES[name], name === 'releaseNamedLikeChart' ? { release: 'studio-comfyui' } : {})));
  names.forEach((name, i) => (rendered[name] = results[i].objects));
});

const deployment = (name: CaseName) => one(rendered[name], 'Deployment');
const podSpec = (name: CaseName) => deployment(name).spec.template.spec;
const container = (name: CaseName, container = 'comfyui') => podSpec(name).containers.find((c: any) => c.name === container);
const initContainer = (name: CaseName, container: string) => (podSpec(name).initContainers ?? []).find((c: any) => c.name === container);
const kinds = (name: CaseName) => rendered[name].map((o) => o.kind).sort();

describe('default values (ci/default-values.yaml: required values only)', () => {
  it('renders the expected set of objects', () => {
    expect(kinds('defaults')).toEqual(
      ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PersistentVolume', 'PersistentVolume', 'PersistentVolumeClaim', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'ScaledObject', 'Service', 'ServiceAccount', 'TargetGroupBinding', 'TriggerAuthentication'].sort(),
    );
  });

  it('requests and limits the GPU, with memory requests equal to limits', () => {
    const { resources } = container('defaults');
    expect(resources.requests['nvidia.com/gpu']).toBe(1);
    expect(resources.limits['nvidia.com/gpu']).toBe(1);
    expect(resources.requests.memory).toBe(resources.limits.memory);
    expect(resources.limits.cpu).toBeUndefined();
    for (const c of [...podSpec('defaults').containers, ...podSpec('defaults').initContainers]) {
      expect({ name: c.name, memory: c.resources.limits?.memory }).toEqual({ name: c.name, memory: c.resources.requests.memory });
    }
  });

  it('schedules on the GPU NodePool only: node selector and the nvidia.com/gpu taint toleration', () => {
    const spec = podSpec('defaults');
    expect(spec.nodeSelector).toEqual({ 'node-role.comfyui.io/gpu': 'true' });
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    expect(spec.topologySpreadConstraints).toEqual([
      expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' }),
    ]);
  });

  it('mounts the node models directory read-only via hostPath and points ComfyUI at it', () => {
    const spec = podSpec('defaults');
    const models = spec.volumes.find((v: any) => v.name === 'models');
    expect(models.hostPath).toEqual({ path: testConfig().models.nodePath, type: 'Directory' });
    expect(container('defaults').volumeMounts).toContainEqual({ name: 'models', mountPath: '/models', readOnly: true, mountPropagation: 'HostToContainer' });
    const config = one(rendered.defaults, 'ConfigMap');
    const paths = parse(config.data!['extra_model_paths.yaml']).comfyui_eks;
    expect(paths.base_path).toBe('/models');
    expect(Object.keys(paths).filter((k) => !['base_path', 'is_default'].includes(k))).toEqual(testConfig().models.prefixes);
    expect(container('defaults').args).toEqual(expect.arrayContaining(['--extra-model-paths-config', '/etc/comfyui/extra_model_paths.yaml']));
  });

  it('waits in an init container for the node readiness marker, with a timeout', () => {
    const wait = initContainer('defaults', 'wait-for-models');
    const env = Object.fromEntries(wait.env.map((e: any) => [e.name, e.value]));
    // config/naming.ts: <nodePath>/.model-sync/ready.json on the node, seen at /models in the pod
    expect(env.MODELS_READY_MARKER).toBe('/models/.model-sync/ready.json');
    expect(Number(env.MODELS_WAIT_TIMEOUT_SECONDS)).toBeGreaterThan(0);
    expect(wait.image).toBe(container('defaults').image);
    expect(wait.volumeMounts).toContainEqual({ name: 'models', mountPath: '/models', readOnly: true, mountPropagation: 'HostToContainer' });
  });

  it('propagates node mounts into every models volumeMount (a disk mounted after the pod started is seen), in every case', () => {
    for (const name of Object.keys(CASES) as CaseName[]) {
      const spec = podSpec(name);
      const mounts = [...spec.initContainers, ...spec.containers].flatMap((c: any) => (c.volumeMounts ?? []).filter((m: any) => m.name === 'models').map((m: any) => ({ container: c.name, ...m })));
      expect(mounts.map((m: any) => m.container).sort()).toEqual(['comfyui', 'wait-for-models']);
      for (const m of mounts) expect({ case: name, ...m }).toEqual({ case: name, container: m.container, name: 'models', mountPath: '/models', readOnly: true, mountPropagation: 'HostToContainer' });
    }
  });

  it('runs every container non-root, without privileges or capabilities, with seccomp RuntimeDefault', () => {
    const spec = podSpec('defaults');
    expect(spec.securityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } }));
    expect(spec.automountServiceAccountToken).toBe(false);
    for (const c of [...spec.containers, ...spec.initContainers]) {
      expect(c.securityContext).toEqual(
        expect.objectContaining({ runAsNonRoot: true, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }),
      );
    }
  });

  it('keeps Karpenter from disrupting the node and gives a generation time to finish', () => {
    const pod = deployment('defaults').spec.template;
    expect(pod.metadata.annotations['karpenter.sh/do-not-disrupt']).toBe('true');
    expect(pod.spec.terminationGracePeriodSeconds).toBe(900);
    expect(container('defaults').lifecycle.preStop.exec.command).toEqual(['python', '/etc/comfyui/drain.py']);
  });

  it('probes ComfyUI on its HTTP API (startup, readiness, liveness)', () => {
    const c = container('defaults');
    for (const probe of [c.startupProbe, c.readinessProbe]) {
      expect(probe.httpGet).toEqual({ path: '/system_stats', port: 'http' });
    }
    expect(c.livenessProbe.httpGet).toEqual({ path: '/', port: 'http' });
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(600);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8188, protocol: 'TCP' }]);
  });

  it('mounts outputs from a Mountpoint S3 static PV with the required mount options', () => {
    const pvs = ofKind(rendered.defaults, 'PersistentVolume');
    const outputs = pvs.find((pv) => pv.metadata.labels?.['comfyui.io/bucket'] === 'outputs')!;
    expect(outputs.spec.csi).toEqual({
      driver: 's3.csi.aws.com',
      volumeHandle: outputs.metadata.name,
      volumeAttributes: { bucketName: 'comfyui-dev-outputs-123456789012-us-west-2', authenticationSource: 'pod' },
    });
    expect(outputs.spec.mountOptions).toEqual(expect.arrayContaining(['allow-delete', 'allow-overwrite', 'allow-other', 'region us-west-2', 'uid=10001', 'gid=10001']));
    expect(outputs.spec.accessModes).toEqual(['ReadWriteMany']);
    expect(outputs.spec.storageClassName).toBe('');
    // every volumeHandle unique in the cluster
    expect(new Set(pvs.map((pv) => pv.spec.csi.volumeHandle)).size).toBe(pvs.length);
    expect(container('defaults').args).toEqual(expect.arrayContaining(['--output-directory', '/comfyui/output']));
  });

  it('binds each PV to its claim both ways', () => {
    const claims = ofKind(rendered.defaults, 'PersistentVolumeClaim');
    for (const pv of ofKind(rendered.defaults, 'PersistentVolume')) {
      const claim = claims.find((c) => c.metadata.name === pv.spec.claimRef.name)!;
      expect(claim).toBeDefined();
      expect(pv.spec.claimRef.namespace).toBe('comfyui');
      expect(claim.spec.volumeName).toBe(pv.metadata.name);
      expect(claim.spec.storageClassName).toBe('');
    }
    const claimNames = podSpec('defaults').volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName);
    expect(claimNames.sort()).toEqual(claims.map((c) => c.metadata.name).sort());
  });

  it('mounts the inputs bucket read-only unless inputs are writable', () => {
    const inputs = (name: CaseName) => ofKind(rendered[name], 'PersistentVolume').find((pv) => pv.metadata.labels?.['comfyui.io/bucket'] === 'inputs')!;
    expect(inputs('defaults').spec.accessModes).toEqual(['ReadOnlyMany']);
    expect(inputs('defaults').spec.mountOptions).toContain('read-only');
    expect(inputs('defaults').spec.mountOptions).not.toContain('allow-delete');
    expect(container('defaults').volumeMounts).toContainEqual({ name: 'inputs', mountPath: '/comfyui/input', readOnly: true });
    expect(inputs('writableInputs').spec.accessModes).toEqual(['ReadWriteMany']);
    expect(inputs('writableInputs').spec.mountOptions).toEqual(expect.arrayContaining(['allow-delete', 'allow-overwrite']));
    expect(container('writableInputs').volumeMounts).toContainEqual({ name: 'inputs', mountPath: '/comfyui/input', readOnly: false });
  });

  it('gives temp and video files a size-limited emptyDir', () => {
    const scratch = podSpec('defaults').volumes.find((v: any) => v.name === 'scratch');
    expect(scratch.emptyDir).toEqual({ sizeLimit: '50Gi' });
    expect(container('defaults').args).toEqual(expect.arrayContaining(['--temp-directory', '/scratch', '--user-directory', '/scratch/user']));
  });

  it('runs the video sidecar as a native sidecar from the ComfyUI image, copying from temp to the outputs mount', () => {
    const sidecar = initContainer('defaults', 'video-sync');
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.image).toBe(container('defaults').image);
    expect(sidecar.command).toEqual(['/bin/sh', '/etc/comfyui/video-sync.sh']);
    const env = Object.fromEntries(sidecar.env.map((e: any) => [e.name, e.value]));
    expect(env).toEqual(expect.objectContaining({ SOURCE_DIR: '/scratch/temp', TARGET_DIR: '/comfyui/output/videos' }));
    expect(sidecar.volumeMounts.map((m: any) => m.name).sort()).toEqual(['config', 'outputs', 'scratch']);
    expect(one(rendered.defaults, 'ConfigMap').data!['video-sync.sh']).toContain('cp "$SOURCE_DIR/$rel" "$target"');
  });

  it('binds the service account the Pod Identity association names, without an API token', () => {
    const sa = one(rendered.defaults, 'ServiceAccount');
    expect(sa.metadata.name).toBe(testConfig().app.serviceAccount);
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(podSpec('defaults').serviceAccountName).toBe(testConfig().app.serviceAccount);
  });

  it('exposes a ClusterIP Service that the TargetGroupBinding registers by pod IP', () => {
    const service = one(rendered.defaults, 'Service');
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8188, targetPort: 'http', protocol: 'TCP' }]);
    const tgb = one(rendered.defaults, 'TargetGroupBinding');
    expect(tgb.apiVersion).toBe('elbv2.k8s.aws/v1beta1');
    expect(tgb.spec).toEqual({
      targetGroupARN: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/comfyui-dev/0123456789abcdef',
      targetType: 'ip',
      serviceRef: { name: service.metadata.name, port: 8188 },
    });
  });

  it('restricts ingress to the load balancer CIDRs on the ComfyUI port; egress to DNS, the Pod Identity agent and 443', () => {
    const policy = one(rendered.defaults, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment('defaults').spec.selector.matchLabels);
    expect(policy.spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: '10.2.0.0/16' } }], ports: [{ port: 8188, protocol: 'TCP' }] }]);
    expect(policy.spec.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
      },
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ port: 80, protocol: 'TCP' }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] },
    ]);
  });

  it('keeps one pod evictable at a time by default', () => {
    expect(one(rendered.defaults, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: deployment('defaults').spec.selector });
  });
});

describe('exposure', () => {
  it('renders exactly one of TargetGroupBinding and Ingress for every ci values file', () => {
    for (const name of ['defaults', 'ingress', 'noSidecar', 'replicas', 'autoscaling', 'generated', 'scan'] as CaseName[]) {
      const exposures = rendered[name].filter((o) => o.kind === 'TargetGroupBinding' || o.kind === 'Ingress');
      expect({ name, count: exposures.length }).toEqual({ name, count: 1 });
    }
    expect(ofKind(rendered.ingress, 'TargetGroupBinding')).toHaveLength(0);
  });

  it('ingress mode: an ALB with the 4000 s idle timeout, cookie stickiness, HTTPS when a certificate is given', () => {
    const ingress = one(rendered.ingress, 'Ingress');
    const a = ingress.metadata.annotations!;
    expect(ingress.spec.ingressClassName).toBe('alb');
    expect(a['alb.ingress.kubernetes.io/load-balancer-attributes']).toBe('idle_timeout.timeout_seconds=4000');
    expect(a['alb.ingress.kubernetes.io/target-group-attributes']).toMatch(/^stickiness\.enabled=true,stickiness\.type=lb_cookie,/);
    expect(a['alb.ingress.kubernetes.io/target-type']).toBe('ip');
    expect(a['alb.ingress.kubernetes.io/scheme']).toBe('internal');
    expect(a['alb.ingress.kubernetes.io/listen-ports']).toBe('[{"HTTPS":443}]');
    expect(a['alb.ingress.kubernetes.io/group.name']).toBe('comfyui');
    expect(ingress.spec.rules[0].host).toBe('comfyui.example.com');
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: one(rendered.ingress, 'Service').metadata.name, port: { name: 'http' } });
  });

  it('lets the controller open the ALB security group when one is given', () => {
    expect(one(rendered.noSidecar, 'TargetGroupBinding').spec.networking).toEqual({
      ingress: [{ from: [{ securityGroup: { groupID: 'sg-0123456789abcdef0' } }], ports: [{ port: 8188, protocol: 'TCP' }] }],
    });
    expect(one(rendered.defaults, 'TargetGroupBinding').spec.networking).toBeUndefined();
  });
});

describe('toggles', () => {
  it('pins the image by digest when one is given', () => {
    expect(container('ingress').image).toBe(
      '123456789012.dkr.ecr.us-west-2.amazonaws.com/comfyui-dev/comfyui@sha256:0d3ef8f4a3a0e5d4c1b2a39f8e7d6c5b4a3928171615141312111009080706f5',
    );
    expect(container('defaults').image).toBe('123456789012.dkr.ecr.us-west-2.amazonaws.com/comfyui-dev/comfyui:v0.3.66');
  });

  it('without the sidecar: no video-sync container or script', () => {
    expect(initContainer('noSidecar', 'video-sync')).toBeUndefined();
    expect(initContainer('noSidecar', 'wait-for-models')).toBeDefined();
    expect(one(rendered.noSidecar, 'ConfigMap').data!['video-sync.sh']).toBeUndefined();
  });

  it('passes prefixes, extra flags and environment through', () => {
    const outputs = ofKind(rendered.noSidecar, 'PersistentVolume').find((pv) => pv.metadata.labels?.['comfyui.io/bucket'] === 'outputs')!;
    expect(outputs.spec.mountOptions).toEqual(expect.arrayContaining(['prefix comfyui/', 'region eu-central-1']));
    expect(container('noSidecar').args.slice(-2)).toEqual(['--preview-method', 'auto']);
    expect(container('noSidecar').env).toContainEqual({ name: 'HF_HUB_OFFLINE', value: '1' });
    expect(one(rendered.noSidecar, 'NetworkPolicy').spec.egress.some((r: any) => r.ports?.[0]?.port === 443)).toBe(false);
  });

  it('several replicas: count, strict spreading, a PDB keeping two up, two GPUs per pod', () => {
    expect(deployment('replicas').spec.replicas).toBe(3);
    expect(podSpec('replicas').topologySpreadConstraints[0].whenUnsatisfiable).toBe('DoNotSchedule');
    expect(one(rendered.replicas, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
    expect(one(rendered.replicas, 'PodDisruptionBudget').spec.maxUnavailable).toBeUndefined();
    expect(container('replicas').resources.limits['nvidia.com/gpu']).toBe(2);
    expect(deployment('replicas').spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it('inputs disabled: no inputs volume; ComfyUI keeps inputs in scratch', () => {
    expect(ofKind(rendered.replicas, 'PersistentVolume')).toHaveLength(1);
    expect(podSpec('replicas').volumes.map((v: any) => v.name)).not.toContain('inputs');
    expect(container('replicas').args).toEqual(expect.arrayContaining(['--input-directory', '/scratch/input']));
  });

  it('autoscaling: an HPA owns the replica count', () => {
    const hpa = one(rendered.autoscaling, 'HorizontalPodAutoscaler');
    expect(hpa.spec).toEqual(expect.objectContaining({ minReplicas: 1, maxReplicas: 6, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment('autoscaling').metadata.name } }));
    expect(hpa.spec.metrics[0].type).toBe('External');
    expect(deployment('autoscaling').spec.replicas).toBeUndefined();
    expect(ofKind(rendered.autoscaling, 'NetworkPolicy')).toHaveLength(0);
    expect(ofKind(rendered.defaults, 'HorizontalPodAutoscaler')).toHaveLength(0);
  });

  it('can be made disruptible and unspread, without a PDB', () => {
    expect(deployment('disruptible').spec.template.metadata.annotations['karpenter.sh/do-not-disrupt']).toBeUndefined();
    expect(podSpec('disruptible').topologySpreadConstraints).toBeUndefined();
    expect(ofKind(rendered.disruptible, 'PodDisruptionBudget')).toHaveLength(0);
  });

  it('network policy and service account can be left out', () => {
    expect(ofKind(rendered.noNetworkPolicy, 'NetworkPolicy')).toHaveLength(0);
    expect(ofKind(rendered.noServiceAccount, 'ServiceAccount')).toHaveLength(0);
    expect(podSpec('noServiceAccount').serviceAccountName).toBe('comfyui');
  });

  it('names objects after the release alone when it already contains the chart name', () => {
    expect(deployment('releaseNamedLikeChart').metadata.name).toBe('studio-comfyui');
    expect(ofKind(rendered.releaseNamedLikeChart, 'PersistentVolume').map((pv) => pv.metadata.name).sort()).toEqual(['comfyui-studio-comfyui-inputs', 'comfyui-studio-comfyui-outputs']);
  });

  it('scans what `make values` produces: the scan values render the same objects as the generated example', () => {
    expect(rendered.scan).toEqual(rendered.generated);
  });

  it('jobs.enabled adds the jobs-worker container and nothing else', () => {
    expect(podSpec('jobs').containers.map((c: any) => c.name)).toEqual(['comfyui', 'jobs-worker']);
    expect(kinds('jobs')).toEqual(kinds('defaults'));
  });

  it('every ci values file is covered by a case above', () => {
    const files = readdirSync(CI_DIR).filter((f) => f.endsWith('-values.yaml'));
    const covered = new Set(Object.values(CASES).flatMap((sources) => sources.filter((s): s is string => typeof s === 'string').map((s) => s.split('/').pop())));
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });
});
