/**
 * Label selectors as list and watch requests send them (`a=b,c!=d,e in (f,g),!h`), for the fake
 * Kubernetes API server. Test support only; field selectors are not supported.
 */
import { ApiError } from './fake-api-resources.js';

/** True when an object's labels match. */
export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

/** Parses a label selector; an empty or absent one matches everything. */
export function parseLabelSelector(text: string | null | undefined): LabelPredicate {
  if (text === null || text === undefined || text.trim() === '') return () => true;
  const requirements = splitRequirements(text).map(parseRequirement);
  return (labels) => requirements.every((requirement) => requirement(labels));
}

/** Splits at commas outside parentheses. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim());
}

function parseRequirement(text: string): LabelPredicate {
  const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(text);
  if (set !== null) {
    const [, key = '', operator, values = ''] = set;
    const allowed = new Set(values.split(',').map((value) => value.trim()));
    return operator === 'in'
      ? (labels) => labels[key] !== undefined && allowed.has(labels[key])
      : (labels) => labels[key] === undefined || !allowed.has(labels[key]);
  }
  const absent = /^!([^=!\s]+)$/.exec(text);
  if (absent !== null) {
    const key = absent[1] ?? '';
    return (labels) => labels[key] === undefined;
  }
  const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (equality !== null) {
    const [, key = '', operator, value = ''] = equality;
    return operator === '!='
      ? (labels) => labels[key] !== value
      : (labels) => labels[key] === value;
  }
  if (/^[^=!\s()]+$/.test(text)) return (labels) => labels[text] !== undefined;
  throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${JSON.stringify(text)}`);
}
