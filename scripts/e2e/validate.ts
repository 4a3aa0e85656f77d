/**
 * `make validate VALIDATE_PROVIDERS=dev` (run by `make test`): `terraform
 * validate` of every stack of the given cdktf output directories with the AWS
 * provider built from the Go module proxy (dev_overrides in
 * .deploy-proof/terraform.tfrc, never ~/.terraformrc; no registry access).
 * The kubernetes and helm providers cannot be installed here: their resources
 * are validated as Terraform expressions (locals/outputs in the copy) and
 * their objects by the real API server in `make e2e`.
 *
 * Usage: node scripts/run-ts.mjs scripts/e2e/validate.ts OUTDIR...
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { argumentsOf, blocking, relevantChanges } from './changelog';
import { PreparedStack, prepareStacks, readStacks } from './stacks';
import { devProviderDir, terraform, terraformEnv } from './terraform';

export interface ValidateResult {
  readonly stack: string;
  readonly ok: boolean;
  readonly message: string;
}

/** Validates prepared stack copies, a few at a time. */
export async function validateStacks(prepared: readonly PreparedStack[], concurrency = 4): Promise<ValidateResult[]> {
  const env = terraformEnv();
  const results: ValidateResult[] = new Array(prepared.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, prepared.length) }, async () => {
      while (next < prepared.length) {
        const i = next++;
        const stack = prepared[i];
        const r = await terraform(stack.dir, ['validate', '-no-color'], env, 300_000);
        // Terraform's notice about dev_overrides is expected (validate says so once, above).
        const text = (r.stderr + r.stdout)
          .split('\n')
          .filter((l) => !/development overrides|dev_overrides|provider development|hashicorp\/aws in |published releases|latest version of/i.test(l))
          .join('\n')
          .trim();
        results[i] = { stack: stack.name, ok: r.code === 0, message: r.code === 0 ? '' : text || `terraform validate exited ${r.code}` };
      }
    }),
  );
  return results;
}

/** Prints what the provider CHANGELOG says about our types since the pinned release; 1 when something we set was removed. */
function changelogCheck(providerDir: string, outdirs: readonly string[]): number {
  const file = join(providerDir, 'CHANGELOG.md');
  if (!existsSync(file)) throw new Error(`${file} missing: rebuild the provider (scripts/install-tools.sh aws-provider)`);
  const pinned = /^AWS_PROVIDER_PIN=(\S+)$/m.exec(readFileSync(join(__dirname, '..', '..', 'scripts', 'deploy-tools.env'), 'utf8'))?.[1] ?? '';
  const stacks = outdirs.flatMap((d) => readStacks(d));
  const entries = relevantChanges(readFileSync(file, 'utf8'), pinned, argumentsOf(stacks, stacks.map((s) => JSON.stringify(s.tf)).join('\n')));
  const touching = entries.filter((e) => e.argumentsWeSet.length > 0);
  process.stdout.write(`validate: provider CHANGELOG after ${pinned}: ${entries.length} removal/deprecation/breaking entries about types we use, ${touching.length} naming an argument we set\n`);
  for (const e of touching) process.stdout.write(`  ${e.version} ${e.subject}: ${e.text} (we set ${e.argumentsWeSet.join(', ')})\n`);
  const bad = blocking(entries);
  for (const e of bad) process.stderr.write(`validate: ${e.subject} changed in ${e.version} in a way the stacks depend on: ${e.text}\n`);
  return bad.length;
}

async function main(outdirs: string[]): Promise<number> {
  const providerDir = devProviderDir();
  process.stdout.write(`validate: hashicorp/aws from ${providerDir} through dev_overrides in .deploy-proof/terraform.tfrc (TF_CLI_CONFIG_FILE; ~/.terraformrc untouched); the stacks still pin the registry release for real deploys\n`);
  let failed = 0;
  failed += changelogCheck(providerDir, outdirs);
  for (const outdir of outdirs) {
    const workDir = mkdtempSync(join(tmpdir(), 'validate-'));
    try {
      const prepared = prepareStacks(readStacks(outdir), { workDir, gaps: new Set() });
      const results = await validateStacks(prepared);
      for (const [i, r] of results.entries()) {
        const inCluster = prepared[i].inCluster.length;
        if (r.ok) process.stdout.write(`validate: ${basename(outdir)} ${r.stack} ok${inCluster ? ` (${inCluster} helm/kubernetes resource(s) checked as expressions; their objects are applied by make e2e)` : ''}\n`);
        else {
          failed += 1;
          process.stderr.write(`validate: ${basename(outdir)} ${r.stack} is invalid:\n${r.message}\n`);
        }
      }
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`validate: ${error.message}\n`);
      process.exit(1);
    },
  );
}
