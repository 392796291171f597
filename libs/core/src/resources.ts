/**
 * Compute a job asks for, in Kubernetes quantities ("500m", "2", "1Gi"). Runtimes that
 * place attempts on machines (Kubernetes) apply them over the task class's defaults;
 * the process runtime ignores them.
 */
export interface ResourceHints {
  requests?: Partial<Record<ResourceName, string>>;
  limits?: Partial<Record<ResourceName, string>>;
}

/** What a job may ask for; GPUs come from the gpu task class, exactly one per attempt. */
export const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'] as const;
export type ResourceName = (typeof RESOURCE_NAMES)[number];

/** A Kubernetes quantity: a decimal number with an optional SI or binary suffix. */
export const QUANTITY_PATTERN = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** Why `hints` is not a valid ResourceHints, as [field, problem], or null if it is. */
export function resourceHintsProblem(hints: unknown): [string, string] | null {
  if (typeof hints !== 'object' || hints === null || Array.isArray(hints))
    return ['', 'must be an object with requests and/or limits'];
  for (const [section, values] of Object.entries(hints)) {
    if (section !== 'requests' && section !== 'limits')
      return [`.${section}`, 'is not a resources section; use requests or limits'];
    if (typeof values !== 'object' || values === null || Array.isArray(values))
      return [`.${section}`, `must be an object such as { "cpu": "500m", "memory": "1Gi" }`];
    for (const [name, quantity] of Object.entries(values)) {
      if (!(RESOURCE_NAMES as readonly string[]).includes(name))
        return [
          `.${section}.${name}`,
          name === 'nvidia.com/gpu'
            ? 'cannot be set: the gpu task class gives each attempt exactly one GPU'
            : `is not a resource a job may ask for; use ${RESOURCE_NAMES.join(', ')}`,
        ];
      if (typeof quantity !== 'string' || !QUANTITY_PATTERN.test(quantity))
        return [
          `.${section}.${name}`,
          `must be a Kubernetes quantity string such as "500m", "2" or "1Gi"`,
        ];
    }
  }
  return null;
}
