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

const SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity's amount in its base unit (cores, bytes), to compare two: "500m" -> 0.5. */
export function quantityAmount(quantity: string): number {
  const match = QUANTITY_PATTERN.exec(quantity);
  if (!match) throw new Error(`not a Kubernetes quantity: ${JSON.stringify(quantity)}`);
  return Number(match[1]) * SUFFIXES[match[3] ?? '']!;
}

/**
 * Why `hints` is not a valid ResourceHints, as [field, problem], or null if it is. A request
 * above its own limit is refused: Kubernetes would refuse every pod made from it.
 */
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
  const { requests = {}, limits = {} } = hints as ResourceHints;
  for (const [name, request] of Object.entries(requests)) {
    const limit = limits[name as ResourceName];
    if (limit !== undefined && quantityAmount(request) > quantityAmount(limit))
      return [`.requests.${name}`, `(${request}) must not be more than limits.${name} (${limit})`];
  }
  return null;
}
