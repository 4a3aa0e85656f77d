/**
 * A chart of this repository (charts/<name>) as a Terraform asset: cdktf
 * copies the directory into the stack's output and helm_release refers to
 * that relative copy, so `terraform plan` works from any checkout and a
 * changed template changes the path (content hash), which upgrades the release.
 */
import { existsSync } from 'fs';
import { dirname, join } from 'path';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';

/** Absolute directory of charts/<name>, found upwards from this file (works from sources and from the esbuild bundle). */
export function localChartDirectory(name: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'charts', name);
    if (existsSync(join(candidate, 'Chart.yaml'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`local chart charts/${name}/Chart.yaml not found in any directory above ${__dirname}`);
    dir = parent;
  }
}

export interface LocalChartProps {
  /** Directory name under charts/. */
  readonly name: string;
}

export class LocalChart extends Construct {
  /** Path of the copied chart, relative to the stack's working directory. */
  public readonly path: string;

  constructor(scope: Construct, id: string, props: LocalChartProps) {
    super(scope, id);
    this.path = new TerraformAsset(this, 'Asset', { path: localChartDirectory(props.name), type: AssetType.DIRECTORY }).path;
  }
}
