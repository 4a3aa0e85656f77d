/**
 * The Lambda (validateModelKey) and the node script (`comfyui-model-sync
 * check-key`, as the user data ships it) must accept and refuse the same keys:
 * a key the Lambda sends but the node refuses fails on every node, and a key
 * the node takes but the Lambda drops only arrives with the next reconcile.
 * Both run here over the shared adversarial corpus (key-corpus.ts), which the
 * SSM document's pattern also runs over (document.test.ts).
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { renderNodeFilesInstaller } from '../../constructs/models/node-files-document';
import { validateModelKey } from '../../lambdas/model-sync/keys';
import { installedFiles } from '../models-node/user-data-parts';
import { CORPUS_EXTENSIONS, CORPUS_PREFIXES, KEY_CORPUS } from './key-corpus';

const PREFIXES = CORPUS_PREFIXES;
const CORPUS = KEY_CORPUS;

let work: string;
let script: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'key-agreement-'));
  const installed = installedFiles(renderNodeFilesInstaller()).get('/usr/local/bin/comfyui-model-sync');
  if (!installed) throw new Error('the node files installer installs no /usr/local/bin/comfyui-model-sync');
  script = path.join(work, 'comfyui-model-sync');
  writeFileSync(script, installed.content, { mode: 0o755 });
  const modelsDir = path.join(work, 'models');
  mkdirSync(modelsDir);
  const envFile = path.join(work, 'comfyui-model-sync.env');
  writeFileSync(envFile, `MODELS_BUCKET=models-bucket\nMODELS_REGION=us-east-1\nMODELS_DIR=${modelsDir}\nMODEL_FOLDERS=${PREFIXES.join(' ')}\nMODEL_EXTENSIONS=${CORPUS_EXTENSIONS.join(' ')}\n`);
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    COMFYUI_MODEL_SYNC_ENV_FILE: envFile,
    COMFYUI_MODEL_SYNC_RUN_DIR: path.join(work, 'run'),
    COMFYUI_MODEL_SYNC_STATE_DIR: path.join(work, 'state'),
    COMFYUI_MODEL_SYNC_SYSLOG: '0',
  };
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A readable, distinct test title: long keys abbreviated, invisible characters escaped. */
function label(key: string): string {
  const show = (text: string) => JSON.stringify(text).replace(/[\u007f-\u009f\u00a0\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const bytes = Buffer.byteLength(key);
  return bytes > 60 ? `${show(key.slice(0, 16))}...${show(key.slice(-16))} (${bytes} bytes)` : show(key);
}

describe('Lambda validateModelKey and node check-key agree', () => {
  it('covers accepted and refused keys', () => {
    const accepted = CORPUS.filter((k) => validateModelKey(k, PREFIXES, CORPUS_EXTENSIONS).ok).length;
    expect(accepted).toBeGreaterThan(20);
    expect(CORPUS.length - accepted).toBeGreaterThan(30);
  });

  it.each(CORPUS.map((key) => [label(key), key]))('on %s', (_label, key) => {
    const lambda = validateModelKey(key, PREFIXES, CORPUS_EXTENSIONS);
    const node = spawnSync(script, ['check-key', key], { env, encoding: 'utf8', timeout: 10000 });
    expect(node.error).toBeUndefined();
    expect([0, 4]).toContain(node.status);
    if (lambda.ok !== (node.status === 0)) {
      const said = (accepted: boolean, why: string) => (accepted ? 'accepts' : `refuses (${why})`);
      throw new Error(`disagreement: the Lambda ${said(lambda.ok, lambda.ok ? '' : lambda.reason)}, the node ${said(node.status === 0, node.stderr.trim())}`);
    }
  });
});
