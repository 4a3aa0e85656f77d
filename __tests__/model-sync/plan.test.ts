import { coalesce, compareSequencers, KeyChange, parseRecord, planCommands } from '../../lambdas/model-sync/plan';
import { BUCKET, change, s3Record, sqsRecord, testEventRecord } from './events';

const SETTINGS = { bucket: BUCKET, prefixes: ['checkpoints', 'loras', 'vae'], extensions: ['.safetensors', '.pt'] };

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
      changes: [{ key: 'checkpoints/my model (1).safetensors', kind: 'delete', sequencer: '0A', eventName: 'ObjectRemoved:DeleteMarkerCreated', messageId: 'm1', eventTime: 1764158400 }],
      skipped: [],
    });
  });

  it.each([
    ['checkpoints/%2e%2e/%2e%2e/etc/passwd', 'reject', '. or ..'],
    ['checkpoints/%.pt', 'reject', 'malformed percent-encoding'],
    ['checkpoints/a%0Ab.pt', 'reject', 'control'],
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
      sqsRecord('m1', { Records: [s3Record('ObjectCreated:Put', 'checkpoints/a.pt', '01', 'other-bucket'), s3Record('ObjectTagging:Put', 'checkpoints/a.pt', '01')] }),
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
  ])('marks %s as unreadable', (body, reason) => {
    expect(parseRecord(sqsRecord('m1', body), SETTINGS)).toEqual({ type: 'unreadable', reason: expect.stringContaining(reason) });
  });

  // Issue 15 item 9: one malformed record used to make the whole message unreadable.
  it.each([
    [{ eventSource: 'aws:sqs' }, 'not an S3 event notification'],
    [{ eventSource: 'aws:s3', s3: { bucket: { name: BUCKET }, object: {} } }, 'without an object key'],
    ['just a string', 'not an S3 event notification'],
  ])('handles records one by one: a malformed record (%j) does not spoil the valid record next to it', (bad, reason) => {
    const parsed = parseRecord(sqsRecord('m1', { Records: [bad, s3Record('ObjectCreated:Put', 'loras/fine.safetensors', '01')] }), SETTINGS);
    expect(parsed.type).toBe('changes');
    if (parsed.type !== 'changes') return;
    expect(parsed.changes.map((c) => c.key)).toEqual(['loras/fine.safetensors']);
    expect(parsed.skipped).toEqual([{ rawKey: '', disposition: 'reject', reason: expect.stringMatching(new RegExp(`^record 0: .*${reason}`)), messageId: 'm1', malformed: true }]);
  });

  it('carries the S3 event time (epoch seconds) for the nodes\' sync-lag metric', () => {
    const parsed = parseRecord(change('m1', 'ObjectCreated:Put', 'loras/x.pt', '01'), SETTINGS);
    expect(parsed.type === 'changes' && parsed.changes[0].eventTime).toBe(Date.parse('2025-11-26T12:00:00.000Z') / 1000);
  });

  it('rejects keys against models.allowedExtensions and the file/folder clash rule', () => {
    const parsed = parseRecord(
      sqsRecord('m1', { Records: [s3Record('ObjectCreated:Put', 'loras/evil.ckpt', '01'), s3Record('ObjectCreated:Put', 'loras/a.pt/b.pt', '01'), s3Record('ObjectCreated:Put', 'loras/%7B%7Bssm%3Ax%7D%7D.pt', '01')] }),
      SETTINGS,
    );
    expect(parsed.type === 'changes' && parsed.skipped.map((s) => s.reason)).toEqual([
      expect.stringContaining('not in models.allowedExtensions'),
      expect.stringContaining('file/folder clash'),
      expect.stringContaining('{ or }'),
    ]);
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
      coalesce(changesOf(change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt', '0001'), change('m2', 'ObjectRemoved:DeleteMarkerCreated', 'checkpoints/a.pt', '0002'))),
    );
    expect(commands).toEqual([{ kind: 'delete', key: 'checkpoints/a.pt', messageIds: ['m2'], eventTime: 1764158400 }]);
  });

  it('orders by sequencer, not by arrival: a late-arriving older create loses to the delete', () => {
    const commands = planCommands(
      coalesce(changesOf(change('m2', 'ObjectRemoved:DeleteMarkerCreated', 'checkpoints/a.pt', '0002'), change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt', '0001'))),
    );
    expect(commands).toEqual([{ kind: 'delete', key: 'checkpoints/a.pt', messageIds: ['m2'], eventTime: 1764158400 }]);
  });

  it('delete then re-upload is a copy', () => {
    const commands = planCommands(
      coalesce(changesOf(change('m1', 'ObjectRemoved:DeleteMarkerCreated', 'loras/x.pt', '00A0'), change('m2', 'ObjectCreated:Put', 'loras/x.pt', '00A0F1'))),
    );
    expect(commands).toEqual([{ kind: 'copy', key: 'loras/x.pt', messageIds: ['m2'], eventTime: 1764158400 }]);
  });

  it('sends one command for a duplicated event and answers for both messages', () => {
    const commands = planCommands(coalesce(changesOf(change('m1', 'ObjectCreated:Put', 'vae/v.pt', '0F'), change('m2', 'ObjectCreated:Put', 'vae/v.pt', '0F'))));
    expect(commands).toEqual([{ kind: 'copy', key: 'vae/v.pt', messageIds: ['m1', 'm2'], eventTime: 1764158400 }]);
  });

  it('counts superseded events and keeps keys apart', () => {
    const coalesced = coalesce(
      changesOf(
        change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt', '01'),
        change('m2', 'ObjectCreated:Put', 'checkpoints/a.pt', '02'),
        change('m3', 'ObjectCreated:Put', 'checkpoints/a.pt', '03'),
        change('m4', 'ObjectCreated:Put', 'checkpoints/b.pt', '01'),
      ),
    );
    expect(coalesced.map((c) => [c.change.key, c.change.messageId, c.superseded])).toEqual([
      ['checkpoints/a.pt', 'm3', 2],
      ['checkpoints/b.pt', 'm4', 0],
    ]);
  });

  it('takes the later-read event as newer when a sequencer is missing', () => {
    const commands = planCommands(coalesce(changesOf(change('m1', 'ObjectCreated:Put', 'checkpoints/a.pt'), change('m2', 'ObjectRemoved:Delete', 'checkpoints/a.pt'))));
    expect(commands).toEqual([{ kind: 'resolve', key: 'checkpoints/a.pt', messageIds: ['m2'], eventTime: 1764158400 }]);
  });

  it('plans in key order, one command per key', () => {
    const commands = planCommands(
      coalesce(changesOf(change('m1', 'ObjectCreated:Put', 'vae/z.pt', '01'), change('m2', 'ObjectCreated:Put', 'checkpoints/a.pt', '01'), change('m3', 'ObjectCreated:Put', 'loras/m.pt', '01'))),
    );
    expect(commands.map((c) => c.key)).toEqual(['checkpoints/a.pt', 'loras/m.pt', 'vae/z.pt']);
  });
});
