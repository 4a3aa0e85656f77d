/**
 * The SSM document's script, run for real: SSM Agent (>= 3.3.2746.0, ENV_VAR
 * interpolation) writes runCommand to a script and runs it with SSM_<param>
 * variables in its environment. We do the same with a stub sync command and
 * hostile keys, and check the stub received the changes verbatim as one
 * argument and that nothing in a key ever ran. The shared key corpus runs
 * through the document's allowedPattern.
 */
import { execFileSync, spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DEFAULT_MODEL_EXTENSIONS, validateModelKey } from '../../lambdas/model-sync/keys';
import { changesAllowedPattern, modelSyncDocumentContent } from '../../constructs/models/model-sync-document';
import { BYTE_LIMIT_ONLY, CORPUS_EXTENSIONS, CORPUS_PREFIXES, KEY_CORPUS } from './key-corpus';

const PREFIXES = ['checkpoints', 'loras'];
const work = mkdtempSync(join(tmpdir(), 'model-sync-doc-'));
const stub = join(work, 'comfyui-model-sync');
const argvFile = join(work, 'argv');
const canary = join(work, 'pwned');

// The stub writes each argument NUL-terminated, so newlines and spaces stay visible.
writeFileSync(stub, `#!/bin/sh\nprintf '%s\\0' "$#" "$@" > '${argvFile}'\n`);
chmodSync(stub, 0o755);

type Doc = { parameters: Record<string, { allowedPattern?: string; allowedValues?: string[]; interpolationType?: string }>; mainSteps: { inputs: { runCommand: string[]; timeoutSeconds: string } }[] };
const EXTENSIONS = DEFAULT_MODEL_EXTENSIONS;
const doc = modelSyncDocumentContent({ prefixes: PREFIXES, extensions: EXTENSIONS, syncCommand: stub, executionTimeoutSeconds: 3600 }) as unknown as Doc;
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
  it('declares one typed parameter that reaches the script only as an environment variable', () => {
    expect(Object.keys(doc.parameters)).toEqual(['changes']);
    expect(doc.parameters.changes).toEqual(expect.objectContaining({ allowedPattern: changesAllowedPattern(PREFIXES, EXTENSIONS), interpolationType: 'ENV_VAR' }));
    const text = JSON.stringify(doc);
    // No {{ }} placeholder (SSM would paste the value into the script), no ${ or %{ (Terraform templates).
    expect(text).not.toMatch(/\{\{|\$\{|%\{/);
    expect(doc.mainSteps[0].inputs.runCommand[2]).toBe(`exec ${stub} apply "$SSM_changes"`);
  });

  it('accepts several lines, and refuses empty values, unknown actions, missing times and forged lines', () => {
    const pattern = new RegExp(doc.parameters.changes.allowedPattern!);
    expect(pattern.test('copy 1764158400 checkpoints/a.safetensors\ndelete 0 loras/b c.pt')).toBe(true);
    for (const bad of ['', '\n', 'copy checkpoints/a.safetensors', 'move 1 checkpoints/a.safetensors', 'copy 1 checkpoints/a.safetensors\n\ncopy 1 loras/b.pt', 'copy 1 checkpoints/a.safetensors\nrm -rf /', 'copy 1 checkpoints/a.safetensors\r', 'copy 1 loras/{{ssm:/x}}.pt']) {
      expect([bad, pattern.test(bad)]).toEqual([bad, false]);
    }
  });

  const hostile = [
    'checkpoints/my model (1).safetensors',
    `checkpoints/$(touch ${canary}).safetensors`,
    `checkpoints/\`touch ${canary}\`.pt`,
    `checkpoints/x; touch ${canary}.pt`,
    `checkpoints/x' ; touch '${canary}.pt`,
    `checkpoints/x" ; touch "${canary}.pt`,
    `checkpoints/a && touch ${canary} || touch ${canary}.pt`,
    'checkpoints/$HOME $PATH $1 $@ * ? [a].pt',
    'loras/模型 🎨.safetensors',
    'checkpoints/-rf --.pt',
  ];
  it.each(hostile)('hands %j to the sync command verbatim, as one argument, running nothing', (key) => {
    expect(validateModelKey(key, PREFIXES, EXTENSIONS).ok).toBe(true);
    const changes = `copy 1764158400 ${key}\ndelete 1764158400 ${key}`;
    expect(new RegExp(doc.parameters.changes.allowedPattern!).test(changes)).toBe(true);
    const run = runDocument({ SSM_changes: changes });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.argv).toEqual(['2', 'apply', changes]);
    expect(existsSync(canary)).toBe(false);
  });

  it('refuses to run when the agent did not set the variable (agent older than 3.3.2746.0)', () => {
    const run = runDocument({ SSM_key: 'copy' });
    expect(run.status).toBe(64);
    expect(run.stderr).toContain('needs 3.3.2746.0 or later');
    expect(run.argv).toBeUndefined();
  });

  it('propagates the sync command exit code', () => {
    writeFileSync(join(work, 'fail'), '#!/bin/sh\nexit 3\n');
    chmodSync(join(work, 'fail'), 0o755);
    const failing = modelSyncDocumentContent({ prefixes: PREFIXES, extensions: EXTENSIONS, syncCommand: join(work, 'fail'), executionTimeoutSeconds: 60 }) as unknown as Doc;
    const failScript = join(work, 'fail.sh');
    writeFileSync(failScript, failing.mainSteps[0].inputs.runCommand.join('\n'));
    const run = spawnSync('/bin/sh', [failScript], { env: { SSM_changes: 'delete 0 loras/x.pt' } });
    expect(run.status).toBe(3);
  });

  it('is shellcheck clean', () => {
    const checked = join(work, 'shellcheck.sh');
    writeFileSync(checked, `#!/bin/sh\n${doc.mainSteps[0].inputs.runCommand.join('\n')}\n`);
    // SC2154 (variable not assigned): SSM Agent assigns SSM_changes.
    expect(() => execFileSync('shellcheck', ['--shell=sh', '--exclude=SC2154', checked], { encoding: 'utf8' })).not.toThrow();
  });

  it('rejects a sync command path that would need quoting', () => {
    expect(() => modelSyncDocumentContent({ prefixes: PREFIXES, extensions: EXTENSIONS, syncCommand: '/usr/bin/x; reboot', executionTimeoutSeconds: 60 })).toThrow('syncCommand must be an absolute path of safe characters');
  });
});

// The shared adversarial corpus through the document's own pattern (one line per key).
describe('the document pattern and the Lambda agree on the shared key corpus', () => {
  const corpusDoc = modelSyncDocumentContent({ prefixes: CORPUS_PREFIXES, extensions: CORPUS_EXTENSIONS, syncCommand: stub, executionTimeoutSeconds: 60 }) as unknown as Doc;
  const pattern = new RegExp(corpusDoc.parameters.changes.allowedPattern!);
  it.each(KEY_CORPUS.map((key, i) => [i, JSON.stringify(key.length > 60 ? `${key.slice(0, 40)}...` : key), key]))('#%i %s', (_i, _label, key) => {
    const lambda = validateModelKey(key, CORPUS_PREFIXES, CORPUS_EXTENSIONS);
    // A key with a line break would reach a node as several lines, each checked on its own;
    // as one key, SSM passes it only when the value is that one line.
    const line = `copy 1764158400 ${key}`;
    const ssm = pattern.test(line) && !line.includes('\n');
    if (BYTE_LIMIT_ONLY.includes(key)) {
      // A regex counts characters: these pass SSM and are refused by the Lambda and the node for bytes.
      expect(lambda.ok === false && /bytes/.test(lambda.reason) && ssm).toBe(true);
    } else {
      expect({ key, ssm }).toEqual({ key, ssm: lambda.ok });
    }
  });
});
