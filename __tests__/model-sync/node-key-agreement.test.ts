/**
 * The Lambda (validateModelKey) and the node script (`comfyui-model-sync
 * check-key`, as the user data ships it) must accept and refuse the same keys:
 * a key the Lambda sends but the node refuses fails on every node, and a key
 * the node takes but the Lambda drops only arrives with the next reconcile.
 * Both run here over one adversarial corpus.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { renderNodeUserData } from '../../constructs/models/node-user-data';
import { validateModelKey } from '../../lambdas/model-sync/keys';
import { testConfig } from '../helpers/config';
import { installedFiles } from '../models-node/user-data-parts';

const PREFIXES = testConfig().models.prefixes;

/** 200-byte segments: long keys without long segments. */
const seg200 = (c: string) => `${c.repeat(200)}/`;

/**
 * Adversarial keys. NUL is left out: neither an argv element nor an SSM
 * environment variable can carry it (the Lambda's own tests cover it).
 */
const CORPUS: readonly string[] = [
  // ordinary and literal-but-odd
  'checkpoints/sd_xl_base_1.0.safetensors',
  'loras/my model (1).safetensors',
  'loras/a+b c.safetensors',
  'vae/ñandú 🐉.pt',
  'vae/模型 ✓.safetensors',
  'checkpoints/%2e%2e',
  'checkpoints/%2e%2e/x.safetensors',
  'loras/$(touch pwned).safetensors',
  'loras/`id`.safetensors',
  'loras/a;rm -rf ~.safetensors',
  'loras/"quoted" \'single\'.pt',
  'embeddings/a]b[c*?.pt',
  'loras/-rf',
  'loras/ leading and trailing space ',
  'checkpoints/.hidden',
  'checkpoints/...',
  'checkpoints/..x',
  'checkpoints/a\u00a0b',
  'checkpoints/a\ufeffb',
  'checkpoints/a\\b',
  // traversal and shape
  '../etc/passwd',
  'checkpoints/../../etc/passwd',
  'checkpoints/..',
  'checkpoints/.',
  'checkpoints/./x',
  'checkpoints//x',
  '/checkpoints/x',
  'checkpoints/',
  'loras/sub/',
  'checkpoints',
  '',
  'unknown/x.safetensors',
  'Checkpoints/x.safetensors',
  'checkpointsx/y',
  '.model-sync/ready.json',
  'README.md',
  // control characters and line separators
  'checkpoints/a\nb',
  'checkpoints/a\rb',
  'checkpoints/a\tb',
  'checkpoints/\u001b[31mred',
  'checkpoints/a\u007fb',
  'checkpoints/a\u0080b',
  'checkpoints/a\u0085b',
  'checkpoints/a\u009fb',
  'checkpoints/a\u2028b',
  'checkpoints/a\u2029b',
  // lengths: keys of 1024/1025 bytes, segments of 255/256 bytes, in ASCII and multi-byte
  `checkpoints/${seg200('a').repeat(4)}${'e'.repeat(1024 - 12 - 4 * 201)}`,
  `checkpoints/${seg200('a').repeat(4)}${'e'.repeat(1025 - 12 - 4 * 201)}`,
  `checkpoints/${seg200('a').repeat(4)}${'é'.repeat(104)}`,
  `checkpoints/${seg200('a').repeat(4)}${'é'.repeat(104)}e`,
  `checkpoints/${'a'.repeat(1012)}`,
  `checkpoints/${'a'.repeat(255)}`,
  `checkpoints/${'a'.repeat(256)}`,
  `checkpoints/${'a'.repeat(256)}/x.safetensors`,
  `checkpoints/x/${'a'.repeat(255)}/y`,
  `checkpoints/.${'a'.repeat(254)}`,
  `checkpoints/..${'a'.repeat(254)}`,
  `checkpoints/${'é'.repeat(127)}a`,
  `checkpoints/${'é'.repeat(128)}`,
  `checkpoints/${'模'.repeat(85)}`,
  `checkpoints/${'模'.repeat(85)}a`,
  `checkpoints/${'🐉'.repeat(63)}abc`,
  `checkpoints/${'🐉'.repeat(64)}`,
];

let work: string;
let script: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'key-agreement-'));
  const userData = renderNodeUserData({ modelsBucketName: 'models-bucket', region: 'us-east-1', modelsDir: '/mnt/models', folders: PREFIXES, reconcileIntervalMinutes: 5 });
  const installed = installedFiles(userData).get('/usr/local/bin/comfyui-model-sync');
  if (!installed) throw new Error('the user data installs no /usr/local/bin/comfyui-model-sync');
  script = path.join(work, 'comfyui-model-sync');
  writeFileSync(script, installed.content, { mode: 0o755 });
  const modelsDir = path.join(work, 'models');
  mkdirSync(modelsDir);
  const envFile = path.join(work, 'comfyui-model-sync.env');
  writeFileSync(envFile, `MODELS_BUCKET=models-bucket\nMODELS_REGION=us-east-1\nMODELS_DIR=${modelsDir}\nMODEL_FOLDERS=${PREFIXES.join(' ')}\n`);
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
    const accepted = CORPUS.filter((k) => validateModelKey(k, PREFIXES).ok).length;
    expect(accepted).toBeGreaterThan(20);
    expect(CORPUS.length - accepted).toBeGreaterThan(30);
  });

  it.each(CORPUS.map((key) => [label(key), key]))('on %s', (_label, key) => {
    const lambda = validateModelKey(key, PREFIXES);
    const node = spawnSync(script, ['check-key', key], { env, encoding: 'utf8', timeout: 10000 });
    expect(node.error).toBeUndefined();
    expect([0, 4]).toContain(node.status);
    if (lambda.ok !== (node.status === 0)) {
      const said = (accepted: boolean, why: string) => (accepted ? 'accepts' : `refuses (${why})`);
      throw new Error(`disagreement: the Lambda ${said(lambda.ok, lambda.ok ? '' : lambda.reason)}, the node ${said(node.status === 0, node.stderr.trim())}`);
    }
  });
});
