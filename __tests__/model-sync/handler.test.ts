import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendCommandCommand, SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { chunkChanges, isThrottling, mapWithConcurrency, MAX_CHANGES_BYTES, withThrottlingRetry } from '../../lambdas/model-sync/dispatch';
import { createLogger } from '../../lambdas/model-sync/log';
import { Dependencies, processBatch } from '../../lambdas/model-sync/handler';
import { readSettings, Settings } from '../../lambdas/model-sync/settings';
import { BUCKET, change, sqsEvent, sqsRecord, testEventRecord } from './events';

const SETTINGS: Settings = {
  bucket: BUCKET,
  prefixes: ['checkpoints', 'loras', 'vae'],
  extensions: ['.safetensors', '.pt'],
  documentName: 'comfyui-dev-model-sync',
  targetTagKey: 'comfyui-model-sync',
  targetTagValue: 'comfyui-dev',
  outputLogGroup: '/aws/ssm/comfyui-dev-model-sync',
  maxConcurrency: '100%',
  maxErrors: '25%',
  deliveryTimeoutSeconds: 600,
  dispatchConcurrency: 4,
};

function awsError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A stub SSM client: `behaviour(input, callNumber)` returns a result or throws. */
function stubSsm(behaviour: (input: SendCommandCommandInput, call: number) => void = () => undefined) {
  const inputs: SendCommandCommandInput[] = [];
  const send = jest.fn(async (command: SendCommandCommand) => {
    expect(command).toBeInstanceOf(SendCommandCommand);
    inputs.push(command.input);
    behaviour(command.input, inputs.length);
    return { Command: { CommandId: `cmd-${inputs.length}`, TargetCount: 0 } };
  });
  return { send, inputs };
}

function stubS3(existing: string[] = []) {
  const send = jest.fn(async (command: ListObjectsV2Command) => {
    const prefix = command.input.Prefix ?? '';
    const key = existing.filter((k) => k.startsWith(prefix)).sort()[0];
    return { Contents: key ? [{ Key: key }] : [] };
  });
  return { send };
}

function deps(overrides: Partial<Dependencies> = {}) {
  const lines: Record<string, unknown>[] = [];
  const sleeps: number[] = [];
  const d: Dependencies = {
    settings: SETTINGS,
    ssm: stubSsm(),
    s3: stubS3(),
    log: (level, msg, fields) => lines.push({ level, msg, ...fields }),
    clock: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5, remainingMs: () => 60_000 },
    retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 2000 },
    ...overrides,
  };
  return { d, lines, sleeps };
}

describe('processBatch', () => {
  it('sends every change of the batch in one SendCommand, by tag, keys only as a parameter value', async () => {
    const ssm = stubSsm();
    const { d } = deps({ ssm });
    const { response, summary } = await processBatch(
      sqsEvent([change('m1', 'ObjectCreated:Put', 'checkpoints/my+model+%281%29.safetensors', '01'), change('m2', 'ObjectRemoved:DeleteMarkerCreated', 'loras/%24%28reboot%29.pt', '01')]),
      d,
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(summary).toEqual({ messages: 2, changes: 2, skipped: 0, keys: 2, commands: 1, sendCommandCalls: 1, failedMessages: 0 });
    expect(ssm.inputs).toEqual([
      {
        DocumentName: 'comfyui-dev-model-sync',
        Targets: [{ Key: 'tag:comfyui-model-sync', Values: ['comfyui-dev'] }],
        Parameters: { changes: ['copy 1764158400 checkpoints/my model (1).safetensors\ndelete 1764158400 loras/$(reboot).pt'] },
        MaxConcurrency: '100%',
        MaxErrors: '25%',
        TimeoutSeconds: 600,
        Comment: 'comfyui model-sync: 1 copy, 1 delete',
        CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/aws/ssm/comfyui-dev-model-sync' },
      },
    ]);
    for (const input of ssm.inputs) {
      expect(input.InstanceIds).toBeUndefined();
      expect(input.Comment).not.toContain('model (1)');
    }
  });

  it('acknowledges the S3 test event and skipped keys without sending anything', async () => {
    const ssm = stubSsm();
    const { d, lines } = deps({ ssm });
    const { response } = await processBatch(
      sqsEvent([testEventRecord('t1'), change('m1', 'ObjectCreated:Put', 'checkpoints/', '01'), change('m2', 'ObjectCreated:Put', 'checkpoints/%2e%2e/x', '01'), change('m3', 'ObjectCreated:Put', 'checkpoints/%zz.pt', '01')]),
      d,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(ssm.send).not.toHaveBeenCalled();
    expect(lines.filter((l) => l.msg === 'key rejected').map((l) => l.rawKey)).toEqual(['checkpoints/%2e%2e/x', 'checkpoints/%zz.pt']);
    expect(lines.filter((l) => l.msg === 'key ignored').map((l) => l.reason)).toEqual(['folder marker']);
    expect(lines.some((l) => String(l.msg).startsWith('S3 test event'))).toBe(true);
  });

  it('reports an unreadable message as a batch item failure (for the DLQ) and processes the rest', async () => {
    const ssm = stubSsm();
    const { d } = deps({ ssm });
    const { response } = await processBatch(sqsEvent([sqsRecord('bad', 'garbage'), change('m1', 'ObjectCreated:Put', 'vae/v.pt', '01')]), d);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(ssm.inputs).toHaveLength(1);
  });

  it('retries throttling with backoff, then succeeds', async () => {
    const ssm = stubSsm((_input, call) => {
      if (call <= 3) throw awsError('ThrottlingException', 'Rate exceeded');
    });
    const { d, sleeps, lines } = deps({ ssm });
    const { response, summary } = await processBatch(sqsEvent([change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt', '01')]), d);
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.sendCommandCalls).toBe(4);
    // Full jitter with random() = 0.5 over 100, 200, 400 ms ceilings.
    expect(sleeps).toEqual([50, 100, 200]);
    expect(lines.filter((l) => l.msg === 'SendCommand throttled; backing off')).toHaveLength(3);
  });

  it('fails exactly the messages of the command that cannot be sent (superseded messages are done)', async () => {
    const ssm = stubSsm(() => {
      throw awsError('InvalidParameters', 'bad');
    });
    const { d, lines } = deps({ ssm });
    const { response, summary } = await processBatch(
      sqsEvent([
        change('ok-1', 'ObjectCreated:Put', 'checkpoints/a.pt', '01'),
        change('dup-1', 'ObjectCreated:Put', 'loras/broken.pt', '05'),
        change('dup-2', 'ObjectCreated:Put', 'loras/broken.pt', '05'),
        change('old', 'ObjectCreated:Put', 'loras/broken.pt', '01'),
      ]),
      d,
    );
    // 'old' was superseded by the change that failed: it needs no redelivery.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['dup-1', 'dup-2', 'ok-1']);
    expect(summary).toMatchObject({ keys: 2, commands: 1, failedMessages: 3 });
    expect(lines.find((l) => l.msg === 'command not sent; its messages will be redelivered')).toMatchObject({ level: 'error', errorName: 'InvalidParameters', keys: ['checkpoints/a.pt', 'loras/broken.pt'] });
  });

  // Performance (issue 15): one command per batch, chunked only where the parameter size forces it.
  it('splits a batch only where SSM\'s parameter size forces it, and fails only the chunk that was not sent', async () => {
    const longKey = (i: number) => `checkpoints/${String(i).padStart(3, '0')}/${['x', 'y', 'z'].map((c) => c.repeat(240)).join('/')}/${'w'.repeat(200)}.safetensors`;
    const ssm = stubSsm((input) => {
      if (input.Parameters?.changes[0].includes(longKey(99))) throw awsError('InvalidParameters');
    });
    const { d } = deps({ ssm });
    const records = Array.from({ length: 100 }, (_, i) => change(`m${i}`, 'ObjectCreated:Put', longKey(i), '01'));
    const { response, summary } = await processBatch(sqsEvent(records), d);
    // 100 changes of 967 bytes: 8 per 8 KiB command.
    expect(summary).toMatchObject({ keys: 100, commands: 13, sendCommandCalls: 13 });
    for (const input of ssm.inputs) expect(Buffer.byteLength(input.Parameters!.changes[0])).toBeLessThanOrEqual(MAX_CHANGES_BYTES);
    expect(ssm.inputs.flatMap((i) => i.Parameters!.changes[0].split('\n')).map((l) => l.split(' ').slice(2).join(' '))).toEqual(records.map((_, i) => longKey(i)));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m96', 'm97', 'm98', 'm99']);

    const small = stubSsm();
    const batch = await processBatch(sqsEvent(Array.from({ length: 100 }, (_, i) => change(`s${i}`, 'ObjectCreated:Put', `loras/model ${i}.safetensors`, '01'))), deps({ ssm: small }).d);
    expect(batch.summary).toMatchObject({ keys: 100, commands: 1, sendCommandCalls: 1 });
  });

  it('gives up on throttling after the policy and fails the message', async () => {
    const ssm = stubSsm(() => {
      throw awsError('ThrottlingException');
    });
    const { d } = deps({ ssm, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 } });
    const { response, summary } = await processBatch(sqsEvent([change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt', '01')]), d);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(summary.sendCommandCalls).toBe(3);
  });

  it('does not retry non-throttling errors', async () => {
    const ssm = stubSsm(() => {
      throw awsError('AccessDeniedException');
    });
    const { d } = deps({ ssm });
    const { summary } = await processBatch(sqsEvent([change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt', '01')]), d);
    expect(summary.sendCommandCalls).toBe(1);
  });

  it('never sleeps past the invocation deadline', async () => {
    const ssm = stubSsm(() => {
      throw awsError('ThrottlingException');
    });
    const sleeps: number[] = [];
    // 3.1 s left: the first backoff (99 ms) fits before the 3 s reserve, the second (198 ms) does not.
    let remaining = 3_200;
    const clock = { sleep: async (ms: number) => void (sleeps.push(ms), (remaining -= ms)), random: () => 0.99, remainingMs: () => remaining };
    const { d } = deps({ ssm, clock });
    const { response, summary } = await processBatch(sqsEvent([change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt', '01')]), d);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sleeps).toEqual([99]);
    expect(summary.sendCommandCalls).toBe(2);
  });

  it('resolves a version delete against the bucket: still there -> copy, gone -> delete', async () => {
    const ssm = stubSsm();
    const s3 = stubS3(['checkpoints/rolled-back.safetensors', 'checkpoints/gone.safetensors.bak']);
    const { d } = deps({ ssm, s3 });
    await processBatch(
      sqsEvent([change('m1', 'ObjectRemoved:Delete', 'checkpoints/rolled-back.safetensors', '01'), change('m2', 'ObjectRemoved:Delete', 'checkpoints/gone.safetensors', '01')]),
      d,
    );
    expect(s3.send).toHaveBeenCalledTimes(2);
    expect(s3.send.mock.calls[0][0].input).toEqual({ Bucket: BUCKET, Prefix: 'checkpoints/gone.safetensors', MaxKeys: 1 });
    expect(ssm.inputs.map((i) => i.Parameters?.changes[0])).toEqual(['delete 1764158400 checkpoints/gone.safetensors\ncopy 1764158400 checkpoints/rolled-back.safetensors']);
  });

  it('fails the message when the existence check fails', async () => {
    const s3 = { send: jest.fn(async () => Promise.reject(awsError('AccessDenied'))) };
    const { d } = deps({ s3 });
    const { response } = await processBatch(sqsEvent([change('m1', 'ObjectRemoved:Delete', 'checkpoints/a.pt', '01')]), d);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });

  it('logs one JSON-safe summary line per batch', async () => {
    const { d, lines } = deps();
    await processBatch(sqsEvent([change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt', '01')]), d);
    expect(lines[lines.length - 1]).toMatchObject({ level: 'info', msg: 'batch done', commands: 1, failedMessages: 0 });
  });
});

describe('logs', () => {
  // Issue 15 item 7: JSON.stringify leaves these raw; a log line must not carry them.
  it('escapes C1 controls, line separators and bidi overrides in keys, and still parses to the same value', () => {
    const out: string[] = [];
    const key = 'checkpoints/a\u0085b\u2028c\u202egnp.pt\u2066\u007f';
    createLogger('r1', (line) => out.push(line))('warn', 'key rejected', { rawKey: key });
    expect(out[0]).not.toMatch(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(out[0]).toContain('a\\u0085b\\u2028c\\u202egnp.pt\\u2066\\u007f');
    expect(JSON.parse(out[0]).rawKey).toBe(key);
  });
});

describe('dispatch helpers', () => {
  it('chunks in order and never splits a change', () => {
    const changes = ['a', 'b', 'c'].map((k) => ({ action: 'copy' as const, key: `loras/${k.repeat(10)}.pt`, eventTime: 1 }));
    // Each line is 26 bytes; 53 fits two lines and the newline between them.
    expect(chunkChanges(changes, 53)).toEqual([[0, 1], [2]]);
    expect(chunkChanges(changes, 52)).toEqual([[0], [1], [2]]);
    expect(() => chunkChanges(changes, 10)).toThrow('one change is 26 bytes');
    expect(chunkChanges([])).toEqual([]);
  });

  it('recognises throttling by error name or SDK retry metadata', () => {
    expect(isThrottling(awsError('ThrottlingException'))).toBe(true);
    expect(isThrottling(Object.assign(new Error('x'), { $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottling(awsError('InvalidDocument'))).toBe(false);
    expect(isThrottling('ThrottlingException')).toBe(false);
  });

  it('caps the backoff delay', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    await withThrottlingRetry(
      async () => {
        if (++calls < 6) throw awsError('ThrottlingException');
        return 'ok';
      },
      { attempts: 6, baseDelayMs: 1000, maxDelayMs: 3000 },
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0.999, remainingMs: () => 600_000 },
    );
    expect(sleeps).toEqual([999, 1998, 2997, 2997, 2997]);
  });

  it('keeps at most `limit` calls in flight and the input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });
});

describe('readSettings', () => {
  const env = {
    MODELS_BUCKET: BUCKET,
    MODEL_PREFIXES: 'checkpoints,loras',
    MODEL_EXTENSIONS: '.safetensors,.pt',
    SYNC_DOCUMENT_NAME: 'doc',
    TARGET_TAG_KEY: 'comfyui-model-sync',
    TARGET_TAG_VALUE: 'comfyui-dev',
    COMMAND_LOG_GROUP: '/aws/ssm/x',
    COMMAND_MAX_CONCURRENCY: '100%',
    COMMAND_MAX_ERRORS: '0',
    COMMAND_DELIVERY_TIMEOUT_SECONDS: '600',
    DISPATCH_CONCURRENCY: '5',
  };

  it('reads the environment the construct sets', () => {
    expect(readSettings(env)).toMatchObject({ prefixes: ['checkpoints', 'loras'], maxErrors: '0', deliveryTimeoutSeconds: 600, dispatchConcurrency: 5 });
  });

  it.each([
    [{ SYNC_DOCUMENT_NAME: '' }, 'environment variable SYNC_DOCUMENT_NAME is required'],
    [{ COMMAND_MAX_CONCURRENCY: '0' }, 'COMMAND_MAX_CONCURRENCY must be a count or a percentage'],
    [{ COMMAND_MAX_ERRORS: '101%' }, 'COMMAND_MAX_ERRORS must be a count or a percentage'],
    [{ DISPATCH_CONCURRENCY: 'five' }, 'DISPATCH_CONCURRENCY must be a positive integer, got "five"'],
    [{ MODEL_PREFIXES: 'checkpoints,a|b' }, 'MODEL_PREFIXES has an invalid folder "a|b"'],
    [{ MODEL_EXTENSIONS: '.safetensors,exe' }, 'MODEL_EXTENSIONS has an invalid extension "exe"'],
  ])('names the variable at fault: %j', (override, message) => {
    expect(() => readSettings({ ...env, ...override })).toThrow(message);
  });
});
