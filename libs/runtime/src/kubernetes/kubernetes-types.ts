/**
 * The Kubernetes object types this runtime builds and reads. @kubernetes/client-node is an
 * ES module; these imports are types only, and the client itself is loaded with import()
 * (kube-client.ts), so nothing here pulls it into code that does not talk to a cluster.
 */
export type {
  V1Container,
  V1EnvVar,
  V1Job,
  V1Node,
  V1Pod,
  V1ContainerStatus,
  V1PodSecurityContext,
  V1ResourceRequirements,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
  V1LocalObjectReference,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
