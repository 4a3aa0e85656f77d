/**
 * The opt-in emulator-timing switch added to the AWS provider build: applied
 * exactly once to the real waiter, inert without TF_AWS_EMULATOR_TIMING=1, and
 * a loud failure when the provider's waiter changes shape.
 */
import { execFileSync, spawnSync } from 'child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'aws-provider-emulator-timing.mjs');
const VERSION = /^AWS_PROVIDER_MODULE_VERSION=(\S+)$/m.exec(readFileSync(join(ROOT, 'scripts', 'deploy-tools.env'), 'utf8'))![1];
const patch = (dir: string) => spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });

/** A copy of the real module's internal/retry/state.go (the installer downloaded the module). */
function realWaiterCopy(): string {
  const modcache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  const source = join(modcache, 'github.com', 'hashicorp', `terraform-provider-aws@${VERSION}`, 'internal', 'retry', 'state.go');
  const dir = mkdtempSync(join(tmpdir(), 'provider-retry-'));
  mkdirSync(join(dir, 'internal', 'retry'), { recursive: true });
  copyFileSync(source, join(dir, 'internal', 'retry', 'state.go'));
  return dir;
}

describe('scripts/aws-provider-emulator-timing.mjs', () => {
  it('inserts the switch once into the real waiter, right after its own default, and is idempotent', () => {
    const dir = realWaiterCopy();
    const before = readFileSync(join(dir, 'internal/retry/state.go'), 'utf8');
    expect(patch(dir).status).toBe(0);
    const after = readFileSync(join(dir, 'internal/retry/state.go'), 'utf8');
    const call = 'conf.ContinuousTargetOccurence, conf.Delay, conf.MinTimeout, conf.PollInterval = emulatorTiming(';
    expect(after.split(call)).toHaveLength(2);
    expect(after.indexOf(call)).toBeLessThan(after.indexOf('delay := backoff.SDKv2HelperRetryCompatibleDelay('));
    expect(after.replace(/^\tconf\.ContinuousTargetOccurence, conf\.Delay.*\n/m, '')).toBe(before);
    expect(patch(dir).status).toBe(0);
    expect(readFileSync(join(dir, 'internal/retry/state.go'), 'utf8')).toBe(after);
  });

  it('fails, naming the file, when the waiter no longer has the expected default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'provider-retry-'));
    mkdirSync(join(dir, 'internal', 'retry'), { recursive: true });
    writeFileSync(join(dir, 'internal/retry/state.go'), 'package retry\n\nfunc f() {}\n');
    const run = patch(dir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('internal/retry/state.go: expected exactly one ContinuousTargetOccurence default');
  });

  it('changes the waiter settings only under TF_AWS_EMULATOR_TIMING=1 (go test of the generated switch)', () => {
    const dir = realWaiterCopy();
    expect(patch(dir).status).toBe(0);
    const pkg = mkdtempSync(join(tmpdir(), 'emulator-timing-'));
    writeFileSync(join(pkg, 'go.mod'), 'module example.invalid/retry\n\ngo 1.22\n');
    copyFileSync(join(dir, 'internal/retry/emulator_timing.go'), join(pkg, 'emulator_timing.go'));
    writeFileSync(
      join(pkg, 'emulator_timing_test.go'),
      [
        'package retry',
        'import ("os"; "testing"; "time")',
        'func TestSwitch(t *testing.T) {',
        '\temulatorTimingOn = os.Getenv("TF_AWS_EMULATOR_TIMING") == "1"',
        '\tn, d, m, p := emulatorTiming(15, 10*time.Second, 3*time.Second, 0)',
        '\tif os.Getenv("WANT") == "on" && (n != 1 || d != 200*time.Millisecond || m != 200*time.Millisecond || p != 200*time.Millisecond) { t.Fatalf("on: %v %v %v %v", n, d, m, p) }',
        '\tif os.Getenv("WANT") == "off" && (n != 15 || d != 10*time.Second || m != 3*time.Second || p != 0) { t.Fatalf("off: %v %v %v %v", n, d, m, p) }',
        '}',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
    const on = spawnSync('go', ['test', '-count=1', '.'], { cwd: pkg, encoding: 'utf8', env: { ...env, TF_AWS_EMULATOR_TIMING: '1', WANT: 'on' } });
    expect(on.stdout + on.stderr).toMatch(/^ok\s/m);
    const off = spawnSync('go', ['test', '-count=1', '.'], { cwd: pkg, encoding: 'utf8', env: { ...env, TF_AWS_EMULATOR_TIMING: '', WANT: 'off' } });
    expect(off.stdout + off.stderr).toMatch(/^ok\s/m);
  });
});
