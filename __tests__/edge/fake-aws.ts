/**
 * A fake `aws` CLI for scripts/edge-user.sh: a small node program on PATH
 * that keeps a KeyValueStore (with its ETag) and ALB listener rules in a JSON
 * file, so tests can run the script's commands in sequence and then run the
 * edge function against the store it left. Nothing leaves the machine.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

export const KVS_ARN = 'arn:aws:cloudfront::123456789012:key-value-store/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
export const LISTENER_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/comfyui-dev-edge/50dc6c495c0c9188/f2f7dc8efc522ab2';
export const TARGET_GROUP_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/comfyui-dev-comfyui/73e2d6bc24d8a067';

/** What the fake account holds. */
export interface FakeAwsState {
  etag: number;
  keys: Record<string, string>;
  rules: { arn: string; listener: string; priority: number; header: string; values: string[]; targetGroup: string }[];
}

const PROGRAM = String.raw`#!/usr/bin/env node
const fs = require('fs');
const [stateFile, logFile] = [process.env.FAKE_AWS_STATE, process.env.FAKE_AWS_LOG];
const argv = process.argv.slice(2);
fs.appendFileSync(logFile, JSON.stringify(argv) + '\n');
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const opt = (name) => { const i = argv.indexOf('--' + name); return i === -1 ? undefined : argv[i + 1]; };
const input = opt('cli-input-json') ? JSON.parse(fs.readFileSync(opt('cli-input-json').replace(/^file:\/\//, ''), 'utf8')) : {};
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state));
const die = (message) => { process.stderr.write(message + '\n'); process.exit(254); };
const etag = () => 'ETAG' + state.etag;
switch (argv[0] + ' ' + argv[1]) {
  case 'cloudfront describe-key-value-store': console.log('${KVS_ARN}'); break;
  case 'cloudfront-keyvaluestore describe-key-value-store': console.log(etag()); break;
  case 'cloudfront-keyvaluestore get-key':
    if (!(opt('key') in state.keys)) die('ResourceNotFoundException: key not found');
    console.log(state.keys[opt('key')]); break;
  case 'cloudfront-keyvaluestore put-key':
  case 'cloudfront-keyvaluestore delete-key':
    if (input.KvsARN !== '${KVS_ARN}') die('unknown store ' + input.KvsARN);
    if (input.IfMatch !== etag()) die('ConflictException: ETag mismatch');
    if (argv[1] === 'put-key') state.keys[input.Key] = input.Value; else delete state.keys[input.Key];
    state.etag += 1; save(); console.log('{}'); break;
  case 'elbv2 describe-rules': {
    const rule = state.rules.find((r) => r.listener === opt('listener-arn') && String(r.priority) === '1');
    console.log(rule ? rule.arn : 'None'); break;
  }
  case 'elbv2 create-rule': {
    const c = input.Conditions[0].HttpHeaderConfig;
    state.rules.push({ arn: input.ListenerArn.replace(':listener/', ':listener-rule/') + '/rule' + state.rules.length, listener: input.ListenerArn, priority: input.Priority, header: c.HttpHeaderName, values: c.Values, targetGroup: input.Actions[0].TargetGroupArn });
    save(); console.log('{}'); break;
  }
  case 'elbv2 modify-rule': {
    const rule = state.rules.find((r) => r.arn === input.RuleArn);
    if (!rule) die('RuleNotFound');
    const c = input.Conditions[0].HttpHeaderConfig;
    rule.header = c.HttpHeaderName; rule.values = c.Values;
    fs.appendFileSync(logFile, JSON.stringify(['#rule-values', ...c.Values]) + '\n');
    save(); console.log('{}'); break;
  }
  default: die('unexpected aws call: ' + argv.join(' '));
}
`;

export function fakeAwsCli(initial: Partial<FakeAwsState> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-user-'));
  const stateFile = join(dir, 'state.json');
  const logFile = join(dir, 'calls.log');
  writeFileSync(stateFile, JSON.stringify({ etag: 1, keys: {}, rules: [], ...initial }));
  writeFileSync(logFile, '');
  writeFileSync(join(dir, 'aws'), PROGRAM);
  chmodSync(join(dir, 'aws'), 0o755);
  return {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAKE_AWS_STATE: stateFile, FAKE_AWS_LOG: logFile, ORIGIN_ROTATION_WAIT_SECONDS: '0' },
    state: (): FakeAwsState => JSON.parse(readFileSync(stateFile, 'utf8')),
    calls: (): string[][] => readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)),
  };
}
