/**
 * Typed values that flow between stacks. A stack exposes one of these as a
 * public field and the next stack takes it as a prop; cdktf turns the tokens
 * into outputs and remote-state reads. Nothing is looked up by name.
 */

/** An S3 bucket another stack reads or writes. */
export interface BucketRef {
  /** Bucket name. */
  readonly name: string;
  /** Bucket ARN. */
  readonly arn: string;
}

/** What the storage stack owns: every bucket and the key encrypting them. */
export interface StorageOutputs {
  /** Models, laid out like ComfyUI/models/. */
  readonly modelsBucket: BucketRef;
  /** Generated images and videos (mounted by ComfyUI through Mountpoint for S3). */
  readonly outputsBucket: BucketRef;
  /** Uploaded inputs (mounted by ComfyUI through Mountpoint for S3). */
  readonly inputsBucket: BucketRef;
  /** Server access logs of the buckets above. */
  readonly logsBucket: BucketRef;
  /** Customer-managed KMS key encrypting models, outputs and inputs. */
  readonly dataKeyArn: string;
}
