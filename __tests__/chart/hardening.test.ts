/**
 * Issue 18 hardening of charts/comfyui, on what `helm template` renders:
 * the video-sync sidecar on the ComfyUI image by default (no third-party
 * image whose digest nobody here can check), any other image only by
 * digest, distinct readiness and liveness
 * probes, an ephemeral-storage limit on EVERY container of every values case
 * (sidecars added later included), and no internet-facing Ingress without
 * authentication and TLS unless it is acknowledged.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { CHART, CI_DIR, DEFAULT_VALUES, K8sObject, render, renderError, requireTools } from './helm';

const CI_FILES = readdirSync(CI_DIR).filter((f) => f.endsWith('-values.yaml'));
const INTERNET_FACING = { exposure: { mode: 'ingress', ingress: { scheme: 'internet-facing' } } };
const CERTIFICATE = 'arn:aws:acm:us-west-2:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100';
// Every sidecar toggle on, so each container the chart can render is checked.
// (The default autoscaling mode keda brings the queue-metrics sidecar.)
const EVERYTHING_ON = { videoSync: { enabled: true } };

const rendered: Record<string, K8sObject[]> = {};
beforeAll(async () => {
  requireTools();
  const cases: [string, (string | object)[]][] = [...CI_FILES.map((f): [string, string[]] => [f, [join(CI_DIR, f)]]), ['everything-on', [DEFAULT_VALUES, EVERYTHING_ON]]];
  const results = await Promise.all(cases.map(([, sources]) => render(sources)));
  cases.forEach(([name], i) => (rendered[name] = results[i].objects));
});

const podSpecs = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment').map((d) => d.spec.template.spec);
const allContainers = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers];

describe('every container has an ephemeral-storage request and limit', () => {
  it.each([...CI_FILES, 'everything-on'])('%s', (name) => {
    const specs = podSpecs(rendered[name]);
    expect(specs.length).toBeGreaterThan(0);
    for (const spec of specs) {
      for (const c of allContainers(spec)) {
        expect({ container: c.name, request: c.resources?.requests?.['ephemeral-storage'] }).toEqual({ container: c.name, request: expect.any(String) });
        expect({ container: c.name, limit: c.resources?.limits?.['ephemeral-storage'] }).toEqual({ container: c.name, limit: expect.any(String) });
      }
    }
  });

  it('gives ComfyUI a limit that covers its scratch emptyDir (emptyDir usage counts toward the pod limit)', () => {
    const [spec] = podSpecs(rendered['default-values.yaml']);
    const gi = (q: string) => Number(/^(\d+)Gi$/.exec(q)![1]);
    const comfyui = spec.containers.find((c: any) => c.name === 'comfyui');
    const scratch = spec.volumes.find((v: any) => v.name === 'scratch');
    expect(gi(comfyui.resources.limits['ephemeral-storage'])).toBeGreaterThan(gi(scratch.emptyDir.sizeLimit));
  });

  it('renders every container resources block through the one helper (new sidecars follow it)', () => {
    const template = readFileSync(join(CHART, 'templates', 'deployment.yaml'), 'utf8');
    const blocks = template.split(/\n\s+resources:\n/).slice(1);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const block of blocks) expect(block.trimStart()).toMatch(/^\{\{- include "comfyui\.resources"/);
  });
});

describe('probes', () => {
  it('readiness and liveness differ: readiness asks the GPU-backed API, liveness only whether the server answers', () => {
    const [spec] = podSpecs(rendered['default-values.yaml']);
    const comfyui = spec.containers.find((c: any) => c.name === 'comfyui');
    expect(comfyui.readinessProbe).not.toEqual(comfyui.livenessProbe);
    expect(comfyui.readinessProbe.httpGet).toEqual({ path: '/system_stats', port: 'http' });
    expect(comfyui.livenessProbe.httpGet).toEqual({ path: '/', port: 'http' });
    expect(comfyui.livenessProbe.periodSeconds * comfyui.livenessProbe.failureThreshold).toBeGreaterThan(comfyui.readinessProbe.periodSeconds * comfyui.readinessProbe.failureThreshold);
  });
});

describe('video-sync sidecar image', () => {
  it('is the ComfyUI image by default, in every values case (already on the node, built and pinned by the platform)', () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    expect(values.videoSync.image).toEqual({ repository: '', tag: '', digest: '', pullPolicy: 'IfNotPresent' });
    let checked = 0;
    for (const name of [...CI_FILES, 'everything-on']) {
      for (const spec of podSpecs(rendered[name])) {
        const sidecar = (spec.initContainers ?? []).find((c: any) => c.name === 'video-sync');
        if (!sidecar) continue;
        const comfyui = spec.containers.find((c: any) => c.name === 'comfyui');
        expect({ name, sidecar: sidecar.image, pullPolicy: sidecar.imagePullPolicy }).toEqual({ name, sidecar: comfyui.image, pullPolicy: comfyui.imagePullPolicy });
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(3);
    for (const file of ['values.yaml', 'values.schema.json', join('templates', 'deployment.yaml')]) expect(readFileSync(join(CHART, file), 'utf8')).not.toContain('busybox');
  });

  it('follows image.digest when ComfyUI is pinned by digest', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const [spec] = podSpecs((await render([DEFAULT_VALUES, { image: { digest } }])).objects);
    expect((spec.initContainers ?? []).find((c: any) => c.name === 'video-sync').image).toBe(`${parse(readFileSync(DEFAULT_VALUES, 'utf8')).image.repository}@${digest}`);
  });

  it('takes another image only by digest', async () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const own = { videoSync: { image: { repository: '123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/busybox', tag: '1.37.0', digest, pullPolicy: 'Always' } } };
    const [spec] = podSpecs((await render([DEFAULT_VALUES, own])).objects);
    const sidecar = (spec.initContainers ?? []).find((c: any) => c.name === 'video-sync');
    expect(sidecar).toMatchObject({ image: `123456789012.dkr.ecr.us-west-2.amazonaws.com/mirror/busybox@${digest}`, imagePullPolicy: 'Always' });
    expect(await renderError([DEFAULT_VALUES, { videoSync: { image: { repository: 'registry.example/busybox', tag: '1.37.0' } } }])).toContain('/videoSync/image');
    expect(await renderError([DEFAULT_VALUES, { videoSync: { image: { repository: 'registry.example/busybox', digest: 'sha256:short' } } }])).toContain('/videoSync/image/digest');
  });

  it('refuses a tag or digest without a repository (they would be ignored)', async () => {
    expect(await renderError([DEFAULT_VALUES, { videoSync: { image: { digest: `sha256:${'c'.repeat(64)}` } } }])).toContain('/videoSync/image/digest');
    expect(await renderError([DEFAULT_VALUES, { videoSync: { image: { tag: '1.37.0' } } }])).toContain('/videoSync/image/tag');
  });
});

describe('internet-facing Ingress', () => {
  it('is refused without authentication and TLS unless acknowledged', async () => {
    expect(await renderError([DEFAULT_VALUES, INTERNET_FACING])).toContain("/exposure/ingress/allowUnauthenticatedInternet': value must be true");
    // TLS alone or authentication alone is not enough.
    expect(await renderError([DEFAULT_VALUES, INTERNET_FACING, { exposure: { ingress: { certificateArn: CERTIFICATE } } }])).toContain("/exposure/ingress/allowUnauthenticatedInternet': value must be true");
    expect(await renderError([DEFAULT_VALUES, INTERNET_FACING, { exposure: { ingress: { annotations: { 'alb.ingress.kubernetes.io/auth-type': 'cognito' } } } }])).toContain("/exposure/ingress/allowUnauthenticatedInternet': value must be true");
  });

  it('renders with ALB authentication and TLS, or with the explicit acknowledgement', async () => {
    const authenticated = await render([DEFAULT_VALUES, INTERNET_FACING, { exposure: { ingress: { certificateArn: CERTIFICATE, annotations: { 'alb.ingress.kubernetes.io/auth-type': 'oidc' } } } }]);
    expect(authenticated.objects.some((o) => o.kind === 'Ingress')).toBe(true);
    const acknowledged = await render([DEFAULT_VALUES, INTERNET_FACING, { exposure: { ingress: { allowUnauthenticatedInternet: true } } }]);
    expect(acknowledged.objects.find((o) => o.kind === 'Ingress')!.metadata.annotations!['alb.ingress.kubernetes.io/scheme']).toBe('internet-facing');
  });

  it('keeps internal Ingresses free of the acknowledgement', async () => {
    const internal = await render([DEFAULT_VALUES, { exposure: { mode: 'ingress' } }]);
    expect(internal.objects.some((o) => o.kind === 'Ingress')).toBe(true);
  });
});

describe('NetworkPolicy of the platform values (issue 18 item 2)', () => {
  // What the network stack carves and the app stack passes to the chart, rendered by helm.
  const cidrRange = (cidr: string): [number, number] => {
    const [ip, prefix] = cidr.split('/');
    const base = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    return [base, base + 2 ** (32 - Number(prefix)) - 1];
  };
  const overlaps = (a: string, b: string) => {
    const [a0, a1] = cidrRange(a);
    const [b0, b1] = cidrRange(b);
    return a0 <= b1 && b0 <= a1;
  };

  it('admits the ComfyUI port only from the ALB subnets, which hold no node or pod', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { synthApp, NETWORK } = require('../app/fixtures');
    const values = synthApp().parsed.output.chart_values.value;
    const { objects } = await render([DEFAULT_VALUES, { networkPolicy: values.networkPolicy }]);
    const policy = objects.find((o) => o.kind === 'NetworkPolicy')!;
    const sources = policy.spec.ingress.flatMap((rule: any) => rule.from.map((peer: any) => peer.ipBlock?.cidr ?? JSON.stringify(peer)));
    expect(sources.sort()).toEqual([...NETWORK.albSubnetCidrs].sort());
    for (const source of sources) {
      for (const nodes of NETWORK.privateSubnetCidrs) expect({ source, nodes, overlaps: overlaps(source, nodes) }).toEqual({ source, nodes, overlaps: false });
    }
  });
});
