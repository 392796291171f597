import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A kubeconfig whose current context points at `server`. @kubernetes/client-node refuses an
 * http:// server unless the cluster says insecure-skip-tls-verify, hence that line.
 */
export function writeKubeconfig(dir: string, server: string): string {
  const path = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: fake-kubernetes',
      '    cluster:',
      `      server: ${server}`,
      '      insecure-skip-tls-verify: true',
      'users:',
      '  - name: fake-kubernetes',
      '    user: {}',
      'contexts:',
      '  - name: fake-kubernetes',
      '    context:',
      '      cluster: fake-kubernetes',
      '      user: fake-kubernetes',
      '      namespace: default',
      'current-context: fake-kubernetes',
      '',
    ].join('\n'),
  );
  return path;
}
