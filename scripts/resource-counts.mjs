// Prints each synthesized stack's resources counted by type, so a reviewer
// sees at a glance what `make synth` produced.
import { readFileSync } from 'fs';
import { join } from 'path';

const outdir = process.argv[2] ?? 'cdktf.out';
const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));
let total = 0;
for (const [name, stack] of Object.entries(manifest.stacks)) {
  const tf = JSON.parse(readFileSync(join(outdir, stack.synthesizedStackPath), 'utf8'));
  const counts = Object.entries(tf.resource ?? {})
    .map(([type, byName]) => [type, Object.keys(byName).length])
    .sort(([a], [b]) => a.localeCompare(b));
  const stackTotal = counts.reduce((sum, [, n]) => sum + n, 0);
  total += stackTotal;
  console.log(`${name}: ${stackTotal} resources`);
  for (const [type, n] of counts) console.log(`  ${String(n).padStart(3)}  ${type}`);
}
console.log(`${Object.keys(manifest.stacks).length} stacks, ${total} resources in ${outdir}/`);
