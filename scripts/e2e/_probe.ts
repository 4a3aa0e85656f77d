import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { prepareStacks, readStacks } from './stacks';
import { readGaps } from './gaps';
import { motoProviderOverride } from './aws';
import { devProviderDir } from './terraform';
const services = readFileSync(join(devProviderDir(), 'services.txt'), 'utf8').split('\n').filter(Boolean);
const p = prepareStacks(readStacks('cdktf.out'), { workDir: '/tmp/dp/probe', gaps: new Set(readGaps().keys()) });
for (const s of p) writeFileSync(join(s.dir, 'moto_override.tf.json'), JSON.stringify(motoProviderOverride(process.argv[2], services)));
