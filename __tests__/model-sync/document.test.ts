/**
 * The SSM document's script, run for real: SSM Agent (>= 3.3.2746.0, ENV_VAR
 * interpolation) writes runCommand to a script and runs it with SSM_<param>
 * variables in its environment. We do the same with a stub sync command and
 * hostile keys, and check the stub received each key verbatim as one argument
 * and that nothing in a key ever ran.
 */
import { execFileSync, spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ssmKeyAllowedPattern, validateModelKey } from '../../lambdas/model-sync/keys';
import { modelSyncDocumentContent } from '../../constructs/models/model-sync-document';

const PREFIXES = ['checkpoints', 'loras'];
const work = mkdtempSync(join(tmpdir(), 'model-sync-doc-'));
const stub = join(work, 'comfyui-model-sync');
const argvFile = join(work, 'argv');
const canary = join(work, 'pwned');

// The stub writes each argument NUL-terminated, so newlines and spaces stay visible.
writeFileSync(stub, `#!/bin/sh\nprintf '%s\\0' "$#" "$@" > '${argvFile}'\n`);
chmodSync(stub, 0o755);

type Doc = { parameters: Record<string, { allowedPattern?: string; allowedValues?: string[]; interpolationType?: string }>; mainSteps: { inputs: { runCommand: string[]; timeoutSeconds: string } }[] };
const doc = modelSyncDocumentContent({ prefixes: PREFIXES, syncCommand: stub, executionTimeoutSeconds: 3600 }) as unknown as Doc;
const script = join(work, '_script.sh');
writeFileSync(script, `${doc.mainSteps[0].inputs.runCommand.join('\n')}\n`);

function runDocument(env: Record<string, string>) {
  rmSync(argvFile, { force: true });
  const result = spawnSync('/bin/sh', [script], { env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8', cwd: work });
  const argv = existsSync(argvFile) ? readFileSync(argvFile, 'utf8').split('\0').slice(0, -1) : undefined;
  return { status: result.status, stderr: result.stderr, argv };
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('model-sync SSM document', () => {
  it('declares typed parameters that reach the script only as environment variables', () => {
    expect(doc.parameters.action).toEqual(expect.objectContaining({ allowedValues: ['copy', 'delete'], interpolationType: 'ENV_VAR' }));
    expect(doc.parameters.key).toEqual(expect.objectContaining({ allowedPattern: ssmKeyAllowedPattern(PREFIXES), interpolationType: 'ENV_VAR' }));
    const text = JSON.stringify(doc);
    // No {{ }} placeholder (SSM would paste the value into the script), no ${ or %{ (Terraform templates).
    expect(text).not.toMatch(/\{\{|\$\{|%\{/);
    expect(doc.mainSteps[0].inputs.runCommand[2]).toBe(`exec ${stub} "$SSM_action" "$SSM_key"`);
  });

  const hostile = [
    'checkpoints/my model (1).safetensors',
    `checkpoints/$(touch ${canary}).safetensors`,
    `checkpoints/\`touch ${canary}\`.pt`,
    `checkpoints/x; touch ${canary}`,
    `checkpoints/x' ; touch '${canary}`,
    `checkpoints/x" ; touch "${canary}`,
    `checkpoints/a && touch ${canary} || touch ${canary}`,
    'checkpoints/$HOME ${PATH} $1 $@ * ? [a]',
    'loras/模型 🎨.safetensors',
    'checkpoints/-rf --',
  ];
  it.each(hostile)('hands %j to the sync command verbatim, as one argument, running nothing', (key) => {
    expect(validateModelKey(key, PREFIXES).ok).toBe(true);
    expect(new RegExp(doc.parameters.key.allowedPattern!).test(key)).toBe(true);
    const run = runDocument({ SSM_action: 'copy', SSM_key: key });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.argv).toEqual(['2', 'copy', key]);
    expect(existsSync(canary)).toBe(false);
  });

  it('refuses to run when the agent did not set the variables (agent older than 3.3.2746.0)', () => {
    const run = runDocument({ SSM_action: 'copy' });
    expect(run.status).toBe(64);
    expect(run.stderr).toContain('needs 3.3.2746.0 or later');
    expect(run.argv).toBeUndefined();
  });

  it('propagates the sync command exit code', () => {
    writeFileSync(join(work, 'fail'), '#!/bin/sh\nexit 3\n');
    chmodSync(join(work, 'fail'), 0o755);
    const failing = modelSyncDocumentContent({ prefixes: PREFIXES, syncCommand: join(work, 'fail'), executionTimeoutSeconds: 60 }) as unknown as Doc;
    const failScript = join(work, 'fail.sh');
    writeFileSync(failScript, failing.mainSteps[0].inputs.runCommand.join('\n'));
    const run = spawnSync('/bin/sh', [failScript], { env: { SSM_action: 'delete', SSM_key: 'loras/x' } });
    expect(run.status).toBe(3);
  });

  it('is shellcheck clean', () => {
    const checked = join(work, 'shellcheck.sh');
    writeFileSync(checked, `#!/bin/sh\n${doc.mainSteps[0].inputs.runCommand.join('\n')}\n`);
    // SC2154 (variable not assigned): SSM Agent assigns SSM_action and SSM_key.
    expect(() => execFileSync('shellcheck', ['--shell=sh', '--exclude=SC2154', checked], { encoding: 'utf8' })).not.toThrow();
  });

  it('rejects a sync command path that would need quoting', () => {
    expect(() => modelSyncDocumentContent({ prefixes: PREFIXES, syncCommand: '/usr/bin/x; reboot', executionTimeoutSeconds: 60 })).toThrow('syncCommand must be an absolute path of safe characters');
  });
});
