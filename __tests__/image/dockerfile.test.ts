/**
 * images/comfyui: Docker cannot build here, so the Dockerfile is checked
 * statically: pins, non-root user, listen address and port, model paths
 * matching the chart and the config, nothing baked in; plus checkov's
 * Dockerfile checks (offline) and shellcheck for the entrypoint.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { ROOT, run } from '../chart/helm';
import { testConfig } from '../helpers/config';

const IMAGE = join(ROOT, 'images', 'comfyui');
const dockerfile = readFileSync(join(IMAGE, 'Dockerfile'), 'utf8');
const chartValues = parse(readFileSync(join(ROOT, 'charts', 'comfyui', 'values.yaml'), 'utf8'));
const chart = parse(readFileSync(join(ROOT, 'charts', 'comfyui', 'Chart.yaml'), 'utf8'));
const config = testConfig();

/** Instructions with continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const [keyword, ...rest] = l.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const argDefaults = Object.fromEntries(
  instructions.filter((i) => i.keyword === 'ARG' && i.args.includes('=')).map((i) => {
    const [name, value] = i.args.split('=');
    return [name, value.replace(/^"|"$/g, '')];
  }),
);
const expand = (text: string) => text.replace(/\$\{(\w+)\}/g, (_, name: string) => argDefaults[name] ?? `\${${name}}`);

describe('images/comfyui/Dockerfile', () => {
  it('pins every base image; the CUDA/PyTorch runtime base by digest', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(' ')[0]);
    expect(froms).toHaveLength(2);
    for (const image of froms) {
      expect(image).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9_.-]+(@sha256:[a-f0-9]{64})?$/);
      expect(image).not.toMatch(/:latest\b/);
    }
    expect(froms[froms.length - 1]).toMatch(/^pytorch\/pytorch:2\.8\.0-cuda12\.8-cudnn9-runtime@sha256:[a-f0-9]{64}$/);
  });

  it('builds the pinned ComfyUI release: the chart appVersion and the config default image tag', () => {
    expect(argDefaults.COMFYUI_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(argDefaults.COMFYUI_VERSION).toBe(chart.appVersion);
    expect(argDefaults.COMFYUI_VERSION).toBe(config.app.imageTag);
    expect(argDefaults.COMFYUI_VERSION).toBe(chartValues.image.tag);
    // the clone is checked against the version file of the tag, and the commit is recorded
    expect(dockerfile).toContain('git clone --depth 1 --branch "${COMFYUI_VERSION}"');
    expect(dockerfile).toContain('grep -q "__version__ = \\"${COMFYUI_VERSION#v}\\"" /src/comfyui_version.py');
    expect(dockerfile).toContain('/src/.comfyui-commit');
  });

  it('installs Python packages only from the hashed lock, after checking it covers the release requirements, keeping the base torch', () => {
    const pipInstalls = instructions.filter((i) => i.keyword === 'RUN' && /pip install/.test(i.args));
    expect(pipInstalls).toHaveLength(1);
    const run = pipInstalls[0].args;
    expect(run).toContain('python -m pip install --no-cache-dir --require-hashes --no-deps -r /tmp/lock/requirements.lock');
    expect(run.match(/pip install/g)).toHaveLength(1);
    // the release's own requirements.txt is checked against the lock first, never installed
    expect(run.indexOf('python /tmp/lock/check-lock.py "${COMFYUI_HOME}/requirements.txt" /tmp/lock/requirements.lock')).toBeGreaterThanOrEqual(0);
    expect(run.indexOf('check-lock.py')).toBeLessThan(run.indexOf('pip install'));
    expect(run).not.toMatch(/-r\s+"?\$\{COMFYUI_HOME\}\/requirements\.txt/);
    expect(run).toContain("assert sys.version_info[:2] == (3, 11)");
    expect(run).toContain("assert torch.__version__.startswith('2.8.0')");
    expect(run).toMatch(/import torch, torchvision, torchaudio, requests\b/);
  });

  it('runs as the numeric non-root user the chart and the S3 mounts use', () => {
    const users = instructions.filter((i) => i.keyword === 'USER').map((i) => expand(i.args));
    expect(users).toEqual([`${chartValues.podSecurityContext.runAsUser}:${chartValues.podSecurityContext.runAsGroup}`]);
    expect(chartValues.podSecurityContext.runAsUser).toBeGreaterThan(0);
    expect(chartValues.s3.uid).toBe(chartValues.podSecurityContext.runAsUser);
    expect(instructions[instructions.length - 1].keyword).toMatch(/^(CMD|ENTRYPOINT)$/);
    // USER comes after the last RUN: nothing at runtime is root
    const lastRun = instructions.map((i) => i.keyword).lastIndexOf('RUN');
    expect(instructions.findIndex((i) => i.keyword === 'USER')).toBeGreaterThan(lastRun);
  });

  it('keeps what the chart scripts run in this image (wait-for-models, video-sync by default): an Ubuntu base, no package removed', () => {
    // The chart's sidecar scripts need a POSIX sh, find, stat, date, cp, mkdir and tr: dash, coreutils and findutils of Ubuntu.
    const from = instructions.filter((i) => i.keyword === 'FROM').pop()!;
    expect(from.args).toMatch(/^pytorch\/pytorch:[^ ]+-runtime@sha256:[a-f0-9]{64}$/);
    expect(dockerfile).toContain('Ubuntu 22.04');
    expect(dockerfile).not.toMatch(/apt-get\s+(-\S+\s+)*(remove|purge|autoremove)|dpkg\s+(-r|--remove|-P|--purge)|rm\s+(-\S+\s+)*\/(usr\/)?bin/);
    expect(chartValues.videoSync.image.repository).toBe('');
  });

  it('listens on 0.0.0.0 on the configured port', () => {
    const entrypoint = readFileSync(join(IMAGE, 'entrypoint.sh'), 'utf8');
    expect(entrypoint).toContain('--listen 0.0.0.0 --port "$port"');
    expect(entrypoint).toContain('port="${COMFYUI_PORT:-8188}"');
    expect(dockerfile).toMatch(new RegExp(`COMFYUI_PORT=${config.app.port}\\b`));
    expect(instructions.find((i) => i.keyword === 'EXPOSE')!.args).toBe(String(config.app.port));
    expect(chartValues.comfyui.port).toBe(config.app.port);
  });

  it('reads models from the chart mount, in the config folders; bakes none in', () => {
    const paths = parse(readFileSync(join(IMAGE, 'extra_model_paths.yaml'), 'utf8')).comfyui_eks;
    expect(paths.base_path).toBe(chartValues.models.mountPath);
    const folders = Object.keys(paths).filter((k) => !['base_path', 'is_default'].includes(k));
    expect(folders).toEqual(config.models.prefixes);
    expect(chartValues.models.folders).toEqual(config.models.prefixes);
    expect(chartValues.models.hostPath).toBe(config.models.nodePath);
    for (const folder of folders) expect(paths[folder]).toBe(`${folder}/`);
    expect(dockerfile).not.toMatch(/\.(safetensors|ckpt|pt|pth|bin|gguf)\b/);
    expect(dockerfile).not.toMatch(/huggingface|civitai|wget|curl /i);
    expect(instructions.filter((i) => i.keyword === 'ADD')).toEqual([]);
  });

  it('sends only the files it uses as build context', () => {
    const ignore = readFileSync(join(IMAGE, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const copied = instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(' ').slice(0, -1));
    expect(ignore.slice(1).map((l) => l.replace(/^!/, '')).sort()).toEqual(copied.sort());
  });

  it('passes checkov Dockerfile checks (offline) and shellcheck', async () => {
    const checkov = await run(join(ROOT, '.tools', 'bin', 'checkov'), ['-f', join(IMAGE, 'Dockerfile'), '--framework', 'dockerfile', '--skip-download', '--compact', '--quiet', '-o', 'json'], { timeoutMs: 120_000 });
    const report = JSON.parse(checkov.stdout);
    expect(report.results.failed_checks.map((c: any) => `${c.check_id}: ${c.check_name}`)).toEqual([]);
    expect(report.summary.passed).toBeGreaterThan(5);
    const shellcheck = await run('shellcheck', [join(IMAGE, 'entrypoint.sh')]);
    expect(shellcheck.stdout).toBe('');
    expect(shellcheck.code).toBe(0);
  });
});
