import { badRequest } from './kube-status';

export type Labels = Record<string, string> | undefined;
export type LabelSelector = (labels: Labels) => boolean;
export type FieldSelector = (object: any) => boolean;

/**
 * A label selector as the API server reads it: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, comma meaning AND. As in Kubernetes, `!=` and `notin` also
 * match objects without the label. An empty selector matches everything.
 */
export function parseLabelSelector(text: string | undefined): LabelSelector {
  const requirements = splitRequirements(text ?? '').map(parseLabelRequirement);
  return (labels) => requirements.every((matches) => matches(labels ?? {}));
}

/** A field selector over dotted paths (`metadata.name=x,status.phase!=Running`). */
export function parseFieldSelector(text: string | undefined): FieldSelector {
  const requirements = splitRequirements(text ?? '').map((requirement) => {
    const match = /^([\w.]+)\s*(!=|==|=)\s*(.*)$/.exec(requirement);
    if (!match) throw badRequest(`invalid field selector: '${requirement}'`);
    const [, path, operator, value] = match;
    return (object: any) => {
      const actual = path.split('.').reduce((at, key) => at?.[key], object) ?? '';
      return operator === '!=' ? String(actual) !== value : String(actual) === value;
    };
  });
  return (object) => requirements.every((matches) => matches(object));
}

/** Splits on the commas that separate requirements, not those inside `in (a,b)`. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

const KEY = String.raw`[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s*\(([^()]*)\)$`);
const EQUALITY = new RegExp(String.raw`^(${KEY})\s*(!=|==|=)\s*([-A-Za-z0-9_.]*)$`);
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

function parseLabelRequirement(requirement: string): (labels: Record<string, string>) => boolean {
  const set = SET.exec(requirement);
  if (set) {
    const [, key, operator, list] = set;
    const values = new Set(list.split(',').map((value) => value.trim()));
    return operator === 'in'
      ? (labels) => key in labels && values.has(labels[key])
      : (labels) => !(key in labels) || !values.has(labels[key]);
  }
  const equality = EQUALITY.exec(requirement);
  if (equality) {
    const [, key, operator, value] = equality;
    return operator === '!='
      ? (labels) => labels[key] !== value
      : (labels) => key in labels && labels[key] === value;
  }
  const exists = EXISTS.exec(requirement);
  if (exists) {
    const [, negated, key] = exists;
    return negated === '!' ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw badRequest(`unable to parse requirement: found '${requirement}', expected a requirement`);
}
