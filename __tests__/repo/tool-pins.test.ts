import { readFileSync } from 'fs';
import { join } from 'path';
import { defaultConfig } from '../../config';

const installer = readFileSync(join(__dirname, '../../scripts/install-tools.sh'), 'utf8');

it('builds helm with the default cluster version as its default .Capabilities.KubeVersion', () => {
  const minor = /^HELM_KUBE_MINOR=(\d+)$/m.exec(installer)?.[1];
  expect(`1.${minor}`).toBe(defaultConfig().cluster.kubernetesVersion);
});
