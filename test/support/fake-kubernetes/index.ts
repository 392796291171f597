export { startFakeKubernetes } from './fake-kubernetes';
export type { FakeKubernetes, FakeKubernetesOptions } from './fake-kubernetes';
export type { RecordedRequest } from './api-server';
