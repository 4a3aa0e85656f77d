import { coalesce, compareSequencers, KeyChange, parseRecord, planCommands } from '../../lambdas/model-sync/plan';
import { BUCKET, change, s3Record, sqsRecord, testEventRecord } from './events';

const SETTINGS = { bucket: BUCKET, prefixes: ['checkpoints', 'loras', 'vae'] };

function changesOf(...records: ReturnType<typeof sqsRecord>[]): KeyChange[] {
  return records.flatMap((r) => {
    const parsed = parseRecord(r, SETTINGS);
    if (parsed.type !== 'changes') throw new Error(`expected changes, got ${parsed.type}`);
    return parsed.changes;
  });
}

describe('parseRecord', () => {
  it('maps created to copy, delete markers to delete, version deletes to resolve', () => {
    const parsed = parseRecord(
      sqsRecord('m1', {
        Records: [
          s3Record('ObjectCreated:Put', 'checkpoints/a.safetensors', '01'),
          s3Record('ObjectCreated:CompleteMultipartUpload', 'checkpoints/b.safetensors', '01'),
          s3Record('ObjectCreated:Copy', 'checkpoints/c.safetensors', '01'),
          s3Record('ObjectRemoved:DeleteMarkerCreated', 'loras/d.safetensors', '01'),
          s3Record('ObjectRemoved:Delete', 'vae/e.safetensors', '01'),
        ],
      }),
      SETTINGS,
    );
    expect(parsed.type).toBe('changes');
    if (parsed.type !== 'changes') return;
    expect(parsed.changes.map((c) => [c.key, c.kind])).toEqual([
      ['checkpoints/a.safetensors', 'copy'],
      ['checkpoints/b.safetensors', 'copy'],
      ['checkpoints/c.safetensors', 'copy'],
      ['loras/d.safetensors', 'delete'],
      ['vae/e.safetensors', 'resolve'],
    ]);
    expect(parsed.skipped).toEqual([]);
  });

  it('decodes keys before validating them (a delete event has no size and must not crash)', () => {
    const parsed = parseRecord(change('m1', 'ObjectRemoved:DeleteMarkerCreated', 'checkpoints/my+model+%281%29.safetensors', '0A'), SETTINGS);
    expect(parsed).toEqual({
      type: 'changes',
      changes: [{ key: 'checkpoints/my model (1).safetensors', kind: 'delete', sequencer: '0A', eventName: 'ObjectRemoved:DeleteMarkerCreated', messageId: 'm1' }],
      skipped: [],
    });
  });

  it.each([
    ['checkpoints/%2e%2e/%2e%2e/etc/passwd', 'reject', '. or ..'],
    ['checkpoints/%', 'reject', 'malformed percent-encoding'],
    ['checkpoints/a%0Ab', 'reject', 'control'],
    ['checkpoints/', 'ignore', 'folder marker'],
    ['.model-sync/ready.json', 'ignore', 'tooling'],
    ['outputs/image.png', 'ignore', 'outside the model folders'],
  ])('skips %s (%s: %s) without failing the message', (rawKey, disposition, reason) => {
    const parsed = parseRecord(change('m1', 'ObjectCreated:Put', rawKey, '01'), SETTINGS);
    expect(parsed.type).toBe('changes');
    if (parsed.type !== 'changes') return;
    expect(parsed.changes).toEqual([]);
    expect(parsed.skipped).toEqual([{ rawKey, disposition, reason: expect.stringContaining(reason), messageId: 'm1' }]);
  });

  it('skips events of another bucket and events that do not change the object', () => {
    const parsed = parseRecord(
      sqsRecord('m1', { Records: [s3Record('ObjectCreated:Put', 'checkpoints/a', '01', 'other-bucket'), s3Record('ObjectTagging:Put', 'checkpoints/a', '01')] }),
      SETTINGS,
    );
    expect(parsed.type === 'changes' && parsed.skipped.map((s) => s.disposition)).toEqual(['reject', 'ignore']);
  });

  it('recognises the S3 test event', () => {
    expect(parseRecord(testEventRecord('m1'), SETTINGS)).toEqual({ type: 'test-event' });
  });

  it.each([
    ['not json', 'body is not JSON'],
    ['[1,2]', 'body is not a JSON object'],
    ['{"hello":"world"}', 'body has no Records array'],
    ['{"Records":[{"eventSource":"aws:sqs"}]}', 'not an S3 event notification'],
    ['{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{}}}]}', 'no object key'],
  ])('marks %s as unreadable', (body, reason) => {
    expect(parseRecord(sqsRecord('m1', body), SETTINGS)).toEqual({ type: 'unreadable', reason: expect.stringContaining(reason) });
  });
});

describe('compareSequencers', () => {
  it('compares hex strings of equal length', () => {
    expect(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E6')).toBeLessThan(0);
    expect(compareSequencers('0055AED6DCD90281E6', '0055AED6DCD90281E5')).toBeGreaterThan(0);
    expect(compareSequencers('0055AED6DCD90281E5', '0055aed6dcd90281e5')).toBe(0);
  });

  it('right-pads the shorter sequencer with zeros before comparing (AWS rule)', () => {
    // Padded: 0055AED6DCD9028100 vs 0055AED6DCD90281E5 -> the longer one is later.
    expect(compareSequencers('0055AED6DCD90281', '0055AED6DCD90281E5')).toBeLessThan(0);
    expect(compareSequencers('0055AED6DCD90282', '0055AED6DCD90281E5')).toBeGreaterThan(0);
    expect(compareSequencers('0055AED6DCD9028100', '0055AED6DCD90281')).toBe(0);
  });
});

describe('coalesce + planCommands', () => {
  it('keeps the latest event per key: create then delete is a delete', () => {
    const commands = planCommands(
      coalesce(changesOf(change('m1', 'ObjectCreated:Put', 'checkpoints/a', '0001'), change('m2', 'ObjectRemoved:DeleteMarkerCreated', 'checkpoints/a', '0002'))),
    );
    expect(commands).toEqual([{ kind: 'delete', key: 'checkpoints/a', messageIds: ['m2'] }]);
  });

  it('orders by sequencer, not by arrival: a late-arriving older create loses to the delete', () => {
    const commands = planCommands(
      coalesce(changesOf(change('m2', 'ObjectRemoved:DeleteMarkerCreated', 'checkpoints/a', '0002'), change('m1', 'ObjectCreated:Put', 'checkpoints/a', '0001'))),
    );
    expect(commands).toEqual([{ kind: 'delete', key: 'checkpoints/a', messageIds: ['m2'] }]);
  });

  it('delete then re-upload is a copy', () => {
    const commands = planCommands(
      coalesce(changesOf(change('m1', 'ObjectRemoved:DeleteMarkerCreated', 'loras/x', '00A0'), change('m2', 'ObjectCreated:Put', 'loras/x', '00A0F1'))),
    );
    expect(commands).toEqual([{ kind: 'copy', key: 'loras/x', messageIds: ['m2'] }]);
  });

  it('sends one command for a duplicated event and answers for both messages', () => {
    const commands = planCommands(coalesce(changesOf(change('m1', 'ObjectCreated:Put', 'vae/v', '0F'), change('m2', 'ObjectCreated:Put', 'vae/v', '0F'))));
    expect(commands).toEqual([{ kind: 'copy', key: 'vae/v', messageIds: ['m1', 'm2'] }]);
  });

  it('counts superseded events and keeps keys apart', () => {
    const coalesced = coalesce(
      changesOf(
        change('m1', 'ObjectCreated:Put', 'checkpoints/a', '01'),
        change('m2', 'ObjectCreated:Put', 'checkpoints/a', '02'),
        change('m3', 'ObjectCreated:Put', 'checkpoints/a', '03'),
        change('m4', 'ObjectCreated:Put', 'checkpoints/b', '01'),
      ),
    );
    expect(coalesced.map((c) => [c.change.key, c.change.messageId, c.superseded])).toEqual([
      ['checkpoints/a', 'm3', 2],
      ['checkpoints/b', 'm4', 0],
    ]);
  });

  it('takes the later-read event as newer when a sequencer is missing', () => {
    const commands = planCommands(coalesce(changesOf(change('m1', 'ObjectCreated:Put', 'checkpoints/a'), change('m2', 'ObjectRemoved:Delete', 'checkpoints/a'))));
    expect(commands).toEqual([{ kind: 'resolve', key: 'checkpoints/a', messageIds: ['m2'] }]);
  });

  it('plans in key order, one command per key', () => {
    const commands = planCommands(
      coalesce(changesOf(change('m1', 'ObjectCreated:Put', 'vae/z', '01'), change('m2', 'ObjectCreated:Put', 'checkpoints/a', '01'), change('m3', 'ObjectCreated:Put', 'loras/m', '01'))),
    );
    expect(commands.map((c) => c.key)).toEqual(['checkpoints/a', 'loras/m', 'vae/z']);
  });
});
