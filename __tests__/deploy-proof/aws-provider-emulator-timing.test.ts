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

/** A copy of the real module's internal/retry/state.go and op.go (the installer downloaded the module). */
function realRetryCopy(): string {
  const modcache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  const source = join(modcache, 'github.com', 'hashicorp', `terraform-provider-aws@${VERSION}`, 'internal', 'retry');
  const dir = mkdtempSync(join(tmpdir(), 'provider-retry-'));
  mkdirSync(join(dir, 'internal', 'retry'), { recursive: true });
  for (const file of ['state.go', 'op.go']) copyFileSync(join(source, file), join(dir, 'internal', 'retry', file));
  return dir;
}
const read = (dir: string, file: string) => readFileSync(join(dir, 'internal/retry', file), 'utf8');

describe('scripts/aws-provider-emulator-timing.mjs', () => {
  it('edits the real waiter and the real not-found retry once each, and nothing else; a second run changes nothing', () => {
    const dir = realRetryCopy();
    const before = { state: read(dir, 'state.go'), op: read(dir, 'op.go') };
    expect(patch(dir).status).toBe(0);
    const after = { state: read(dir, 'state.go'), op: read(dir, 'op.go') };
    const call = 'conf.ContinuousTargetOccurence, conf.Delay, conf.MinTimeout, conf.PollInterval = emulatorTiming(';
    expect(after.state.split(call)).toHaveLength(2);
    expect(after.state.indexOf(call)).toBeLessThan(after.state.indexOf('delay := backoff.SDKv2HelperRetryCompatibleDelay('));
    expect(after.state.replace(/^\tconf\.ContinuousTargetOccurence, conf\.Delay.*\n/m, '')).toBe(before.state);
    // UntilFoundN (RetryWhenNotFound) stops at the first "not found"; UntilNotFound is untouched.
    expect(after.op.split('return !emulatorTimingOn, err')).toHaveLength(2);
    expect(after.op.replace('return !emulatorTimingOn, err', 'return true, err')).toBe(before.op);
    expect(after.op.slice(after.op.indexOf('func (op opFunc[T]) UntilFoundN'), after.op.indexOf('func (op opFunc[T]) UntilNotFound'))).toContain('!emulatorTimingOn');
    expect(patch(dir).status).toBe(0);
    expect({ state: read(dir, 'state.go'), op: read(dir, 'op.go') }).toEqual(after);
  });

  it('fails, naming the file, when the code it edits is not there once', () => {
    const dir = realRetryCopy();
    writeFileSync(join(dir, 'internal/retry/op.go'), 'package retry\n\nfunc f() {}\n');
    const run = patch(dir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('internal/retry/op.go: expected exactly one occurrence of the code the emulator switch edits');
    // Nothing half-written: the other file is untouched too.
    expect(read(dir, 'state.go')).not.toContain('emulatorTiming(');
  });

  it('changes the waiter settings only under TF_AWS_EMULATOR_TIMING=1 (go test of the generated switch)', () => {
    const dir = realRetryCopy();
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
