import { execFileSync, spawnSync } from 'child_process';
import { join } from 'path';

const ROOT = join(__dirname, '../..');

/** Every tracked shell script: *.sh files plus extension-less scripts with a bash shebang. */
function shellScripts(): string[] {
  const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  return tracked.filter((file) => {
    if (file.startsWith('node_modules/')) return false;
    if (file.endsWith('.sh') || file === '.ci/run') return true;
    if (/\.(ts|js|mjs|json|ya?ml|md|tpl|txt|service|timer)$/.test(file) || !file.startsWith('scripts/')) return false;
    const head = spawnSync('head', ['-c', '64', join(ROOT, file)], { encoding: 'utf8' }).stdout ?? '';
    return /^#!.*\bbash\b/.test(head);
  });
}

describe('shell scripts', () => {
  const scripts = shellScripts();

  it('exist (the installer, CI entry point and benchmarks at least)', () => {
    expect(scripts).toEqual(expect.arrayContaining(['.ci/run', 'scripts/install-tools.sh', 'scripts/bench.sh']));
  });

  it('are shellcheck clean', () => {
    const run = spawnSync('shellcheck', ['--external-sources', ...scripts], { cwd: ROOT, encoding: 'utf8' });
    if (run.error) throw new Error(`shellcheck is not installed (scripts/install-tools.sh apt installs it): ${run.error.message}`);
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it.each(scripts)('%s stops on errors (bash: set -euo pipefail; POSIX sh: set -eu)', (file) => {
    const text = execFileSync('cat', [join(ROOT, file)], { encoding: 'utf8' });
    // POSIX sh scripts run in images without bash and have no pipefail
    expect(text).toMatch(text.startsWith('#!/bin/sh') ? /^set -eu$/m : /^set -E?euo pipefail\b/m);
  });
});
