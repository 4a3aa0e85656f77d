import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { defaultConfig, loadConfig, parseConfig } from '../../config';

function errorsOf(input: unknown): string[] {
  const result = parseConfig(input);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.errors;
}

describe('embedded default config', () => {
  it('parses with the documented defaults', () => {
    const config = defaultConfig();
    expect(config.name).toBe('comfyui');
    expect(config.region).toBe('us-west-2');
    expect(config.network.cidr).toBe('10.2.0.0/16');
    expect(config.network.azCount).toBe(3);
    expect(config.karpenter.gpu.instanceFamilies).toEqual(['g4dn', 'g5', 'g6', 'g6e']);
    expect(config.edge.auth.mode).toBe('basic');
    expect(config.state.bucket).toBeUndefined();
  });
});

describe('CIDR validation', () => {
  it.each(['10.2.0.0/16', '192.168.0.0/20', '172.31.0.0/16'])('accepts VPC block %s', (cidr) => {
    expect(parseConfig({ network: { cidr } }).ok).toBe(true);
  });
  it.each(['203.0.113.0/24', '0.0.0.0/0', '198.51.100.7/32'])('accepts allow-list entry %s', (cidr) => {
    expect(parseConfig({ cluster: { publicAccessCidrs: [cidr] } }).ok).toBe(true);
  });
  it.each(['203.0.113.1/24', '256.0.0.0/8', '10.0.0.0/33'])('rejects allow-list entry %s', (cidr) => {
    expect(errorsOf({ cluster: { publicAccessCidrs: [cidr] } })[0]).toMatch(/^cluster\.publicAccessCidrs\.0: must be an IPv4 CIDR block/);
  });
});

describe('invalid config is rejected with the field path', () => {
  it.each([
    [{ network: { cidr: '10.0.0.0/8' } }, 'network.cidr: must be a /16 to /20 IPv4 block, got 10.0.0.0/8'],
    [{ network: { cidr: '10.2.0.1/16' } }, 'network.cidr: must be a /16 to /20 IPv4 block, got 10.2.0.1/16'],
    [{ network: { cidr: 'not-a-cidr' } }, 'network.cidr:'],
    [{ region: 'moon-base-1' }, 'region: must be an AWS region'],
    [{ name: '' }, 'name: must not be empty'],
    [{ name: 'Bad_Name' }, 'name: must be lowercase'],
    [{ karpenter: { gpu: { instanceFamilies: ['m5'] } } }, 'karpenter.gpu.instanceFamilies.0: must be an NVIDIA GPU instance family'],
    [{ netwrk: {} }, 'netwrk: unknown key'],
    [{ cluster: { systemNodes: { minSize: 3, desiredSize: 2 } } }, 'cluster.systemNodes: must satisfy minSize <= desiredSize <= maxSize'],
    [{ network: { azCount: 'three' } }, 'network.azCount: must be number, got string'],
    [{ network: { natGateways: 'none' } }, 'network.natGateways: must be one of "per-az", "single"'],
    [{ edge: { auth: { mode: 'none' } } }, 'edge.auth.acknowledgeUnauthenticated: must be true'],
    [{ karpenter: { amiAlias: 'al2023@latest' } }, 'karpenter.amiAlias: must be a pinned AL2023 alias'],
    [{ name: 'averyveryverylongname', environment: 'production-eu' }, 'name: '],
  ])('%j -> %s', (input, expected) => {
    expect(errorsOf(input).join('\n')).toContain(expected);
  });

  it('reports every problem, one line each', () => {
    const errors = errorsOf({ region: 'x', network: { cidr: '1.2.3.4/8' }, bogus: 1 });
    expect(errors).toHaveLength(3);
    expect(errors.every((line) => /^[a-zA-Z.0-9]+: /.test(line))).toBe(true);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'comfyui-config-'));

  it('merges an override file over the defaults and env over the file', () => {
    const file = join(dir, 'override.yaml');
    writeFileSync(file, 'name: studio\nregion: eu-west-1\nnetwork:\n  natGateways: single\n');
    const result = loadConfig({ COMFYUI_CONFIG: file, COMFYUI_REGION: 'eu-central-1' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.name).toBe('studio');
    expect(result.config.region).toBe('eu-central-1');
    expect(result.config.network.natGateways).toBe('single');
    // untouched siblings keep their defaults
    expect(result.config.network.cidr).toBe('10.2.0.0/16');
  });

  it('reads JSON files too', () => {
    const file = join(dir, 'override.json');
    writeFileSync(file, JSON.stringify({ environment: 'prod' }));
    const result = loadConfig({ COMFYUI_CONFIG: file });
    expect(result.ok && result.config.environment).toBe('prod');
  });

  it('names the file when it cannot be parsed', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "name": ');
    const result = loadConfig({ COMFYUI_CONFIG: file });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]).toMatch(/^COMFYUI_CONFIG: .*broken\.json is not valid JSON/);
  });

  it('names the file when it is missing', () => {
    const result = loadConfig({ COMFYUI_CONFIG: join(dir, 'missing.yaml') });
    expect(!result.ok && result.errors[0]).toMatch(/^COMFYUI_CONFIG: cannot read/);
  });

  it('rejects an invalid environment override with the field name', () => {
    const result = loadConfig({ COMFYUI_REGION: 'nowhere' });
    expect(!result.ok && result.errors[0]).toMatch(/^region: /);
  });
});
