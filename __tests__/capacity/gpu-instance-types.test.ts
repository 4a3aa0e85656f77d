import { readFileSync } from 'fs';
import { resolve } from 'path';
import { NVIDIA_NVME_FAMILIES, parseConfig } from '../../config';
import { eligibleGpuInstanceTypes, GPU_INSTANCE_TYPES, gpuInstanceFamilies, MIN_SPOT_TO_SPOT_TYPES } from '../../config/gpu-instance-types';
import { testConfig } from '../helpers/config';

describe('the NVIDIA GPU instance-type table', () => {
  it('holds only NVMe-backed GPU types, each once, named after its family', () => {
    const types = GPU_INSTANCE_TYPES.map((t) => t.type);
    expect(new Set(types).size).toBe(types.length);
    for (const t of GPU_INSTANCE_TYPES) {
      expect(t.type.startsWith(`${t.family}.`)).toBe(true);
      expect(t.gpus).toBeGreaterThanOrEqual(1);
      expect(t.nvmeGB).toBeGreaterThan(0);
      expect(t.vcpus).toBeGreaterThan(0);
      expect(t.memoryGiB).toBeGreaterThan(0);
    }
  });

  it('covers exactly the families the config accepts', () => {
    expect([...gpuInstanceFamilies()].sort()).toEqual([...NVIDIA_NVME_FAMILIES].sort());
  });

  it('carries the published figures for a few well-known types', () => {
    const byType = Object.fromEntries(GPU_INSTANCE_TYPES.map((t) => [t.type, t]));
    expect(byType['g4dn.xlarge']).toEqual({ type: 'g4dn.xlarge', family: 'g4dn', gpus: 1, gpuModel: 'T4', vcpus: 4, memoryGiB: 16, nvmeGB: 125 });
    expect(byType['g5.12xlarge']).toMatchObject({ gpus: 4, gpuModel: 'A10G', vcpus: 48, memoryGiB: 192, nvmeGB: 3800 });
    expect(byType['g6e.xlarge']).toMatchObject({ gpus: 1, gpuModel: 'L40S', vcpus: 4, memoryGiB: 32, nvmeGB: 250 });
    expect(byType['p5.48xlarge']).toMatchObject({ gpus: 8, gpuModel: 'H100', nvmeGB: 30400 });
  });
});

describe('eligible GPU instance types (Spot-to-Spot consolidation needs 15)', () => {
  it('GIVEN the default config THEN at least 15 types are eligible', () => {
    const eligible = eligibleGpuInstanceTypes(testConfig().karpenter.gpu);
    expect(MIN_SPOT_TO_SPOT_TYPES).toBe(15);
    expect(eligible.length).toBeGreaterThanOrEqual(MIN_SPOT_TO_SPOT_TYPES);
    // g4dn, g5, g6, g6e with 1-4 GPUs and >= 200 GB NVMe: every size except the 8-GPU ones and g4dn.xlarge (125 GB).
    expect(eligible).toHaveLength(26);
    expect(eligible.map((t) => t.type)).toEqual(expect.arrayContaining(['g4dn.2xlarge', 'g5.24xlarge', 'g6.12xlarge', 'g6e.16xlarge']));
    expect(eligible.map((t) => t.type)).not.toContain('g4dn.xlarge');
    expect(eligible.map((t) => t.type)).not.toEqual(expect.arrayContaining(['g4dn.metal']));
    expect(eligible.every((t) => t.gpus >= 1 && t.gpus <= 4)).toBe(true);
  });

  it('follows minGpus/maxGpus and the families', () => {
    const fourGpus = eligibleGpuInstanceTypes({ instanceFamilies: ['g5', 'g6'], minGpus: 4, maxGpus: 4 });
    const bigDisks = eligibleGpuInstanceTypes({ instanceFamilies: ['g5', 'g6'], minGpus: 1, maxGpus: 4, minLocalNvmeGB: 1000 });
    expect(bigDisks.length).toBeGreaterThan(0);
    expect(bigDisks.every((t) => t.nvmeGB >= 1000)).toBe(true);
    expect(fourGpus.map((t) => t.type)).toEqual(['g5.12xlarge', 'g5.24xlarge', 'g6.12xlarge', 'g6.24xlarge']);
  });

  it('GIVEN families leaving fewer than 15 types THEN the config is rejected, naming the field and the reason', () => {
    const result = parseConfig({ karpenter: { gpu: { instanceFamilies: ['g6e'] } } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/^karpenter\.gpu\.instanceFamilies: leaves 7 eligible GPU instance types with 1-4 GPUs \(g6e\.xlarge, .*\); Karpenter's Spot-to-Spot consolidation needs at least 15/);
  });

  it('GIVEN a GPU range that narrows the default families below 15 THEN the config is rejected', () => {
    const result = parseConfig({ karpenter: { gpu: { minGpus: 4, maxGpus: 8 } } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain('karpenter.gpu.instanceFamilies: leaves 11 eligible GPU instance types with 4-8 GPUs');
  });

  it('lists every default-eligible type in docs/gpu-capacity.md', () => {
    const doc = readFileSync(resolve(__dirname, '../../docs/gpu-capacity.md'), 'utf8');
    for (const t of eligibleGpuInstanceTypes(testConfig().karpenter.gpu)) expect(doc).toContain(`| ${t.type} |`);
  });
});

describe('capacity config fields', () => {
  it('rejects a malformed disruption budget and unknown fallback keys with the field path', () => {
    const result = parseConfig({ karpenter: { gpu: { disruptionBudgetNodes: 'two', onDemandFallback: { enable: true } } } } as never);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContain('karpenter.gpu.disruptionBudgetNodes: must be a node count such as 1 or a percentage such as 10%');
    expect(result.errors).toContain('karpenter.gpu.onDemandFallback.enable: unknown key (check the spelling against docs/configuration.md)');
  });

  it('pins every chart version by default (no latest)', () => {
    const k = testConfig().karpenter;
    for (const v of [k.version, k.nvidiaDevicePluginVersion, k.dcgmExporter.version, k.loadBalancerControllerVersion]) expect(v).toMatch(/^\d+\.\d+\.\d+$/);
    expect(k.amiAlias).toMatch(/^al2023@v\d{8}$/);
  });
});
