/**
 * Address templates: how a local (non-Kubernetes) run names every member's `host:port` from its
 * ordinal. This file owns the template syntax, its parser and its evaluation; it must not know
 * flags, defaults or Kubernetes naming (node-identity.ts does).
 *
 * Syntax. A template is text with placeholders in braces; it renders to `host:port`.
 *  - `{ordinal}`: the member's ordinal j (0, 1, 2, ...).
 *  - `{name}`: the member's name, `STATEFULSET-j` (for example `raftkv-2`).
 *  - `{statefulset}`: the name before `-K` in this node's host name (for example `raftkv`).
 *  - `{peerPort}`, `{clientPort}`: this node's `--peer-port` and `--client-port`.
 *  - Arithmetic: `+` and `*` over non-negative integers, `ordinal`, `peerPort` and `clientPort`,
 *    with the usual precedence and no parentheses: `{23800+ordinal}`, `{20000 + 10*ordinal}`.
 *    `name` and `statefulset` stand alone in their braces.
 * The port is what follows the last `:` outside braces; it must be digits and numeric
 * placeholders only. An IPv6 host is written in brackets: `[::1]:{23800+ordinal}`. Braces are
 * always placeholders (there is no escape), and a template must use `{ordinal}` or `{name}`,
 * otherwise every member would get the same address.
 *
 * Examples: `127.0.0.1:{23800+ordinal}`, `{name}:{peerPort}` (one container per member),
 * `{name}.raftkv.test:2380`.
 */
import type { Parsed } from './node-config-values.js';

/** Placeholders that render to a number. */
const NUMERIC_VARIABLES = ['ordinal', 'peerPort', 'clientPort'] as const;
/** Placeholders that render to text. */
const TEXT_VARIABLES = ['name', 'statefulset'] as const;

type NumericVariable = (typeof NUMERIC_VARIABLES)[number];
type TextVariable = (typeof TEXT_VARIABLES)[number];

/** The values a template is rendered with, for one member. */
export interface AddressTemplateVariables {
  readonly ordinal: number;
  readonly name: string;
  readonly statefulset: string;
  readonly peerPort: number;
  readonly clientPort: number;
}

/** A rendered template: the port is not range-checked here. */
export interface RenderedAddress {
  readonly host: string;
  readonly port: number;
}

/** A factor of a product: a literal or a numeric variable. */
type Atom = { readonly literal: number } | { readonly variable: NumericVariable };

type Segment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'text'; readonly variable: TextVariable }
  /** A sum of products. */
  | { readonly kind: 'number'; readonly terms: readonly (readonly Atom[])[] };

const LITERAL_CHARACTERS = /^[A-Za-z0-9.\-_:[\]]*$/;
const INTEGER = /^\d+$/;

const TEMPLATE_EXPECTED =
  'a host:port template with placeholders such as {ordinal}, {name} or {23800+ordinal}';

/** A parsed address template; `source` is the text it was parsed from. */
export class AddressTemplate {
  private constructor(
    readonly source: string,
    private readonly hostSegments: readonly Segment[],
    private readonly portSegments: readonly Segment[],
  ) {}

  /** Parses `source`, or says what is wrong with it (completing "expected ..."). */
  static parse(source: string): Parsed<AddressTemplate> {
    if (source.length === 0) return { problem: TEMPLATE_EXPECTED };
    const segments = parseSegments(source);
    if ('problem' in segments) return segments;
    const problem = checkSegments(segments.value);
    if (problem !== undefined) return { problem: `${TEMPLATE_EXPECTED}; ${problem}` };
    const split = splitHostPort(segments.value);
    if ('problem' in split) return { problem: `${TEMPLATE_EXPECTED}; ${split.problem}` };
    return { value: new AddressTemplate(source, split.value.host, split.value.port) };
  }

  /** The member's `host` and `port`; the port may be out of range (the caller checks). */
  render(variables: AddressTemplateVariables): RenderedAddress {
    const host = this.hostSegments.map((segment) => renderSegment(segment, variables)).join('');
    const port = Number(this.portSegments.map((s) => renderSegment(s, variables)).join(''));
    return { host, port };
  }

  toString(): string {
    return this.source;
  }

  /** Logged and serialized as its source text. */
  toJSON(): string {
    return this.source;
  }
}

/** Splits the source into literal text and placeholders. */
function parseSegments(source: string): Parsed<readonly Segment[]> {
  const segments: Segment[] = [];
  let position = 0;
  while (position < source.length) {
    const open = source.indexOf('{', position);
    const literalEnd = open === -1 ? source.length : open;
    const literal = source.slice(position, literalEnd);
    if (literal.includes('}'))
      return fail(`'}' at offset ${position + literal.indexOf('}')} closes nothing`);
    if (literal.length > 0) segments.push({ kind: 'literal', text: literal });
    if (open === -1) break;
    const close = source.indexOf('}', open);
    if (close === -1) return fail(`'{' at offset ${open} is never closed`);
    const inner = source.slice(open + 1, close);
    if (inner.includes('{')) return fail(`'{' at offset ${open} is not closed before the next '{'`);
    const placeholder = parsePlaceholder(inner);
    if ('problem' in placeholder) return fail(placeholder.problem);
    segments.push(placeholder.value);
    position = close + 1;
  }
  return { value: segments };
}

function fail(problem: string): { readonly problem: string } {
  return { problem: `${TEMPLATE_EXPECTED}; ${problem}` };
}

/** One placeholder's inside, e.g. `name` or `23800 + ordinal`. */
function parsePlaceholder(inner: string): Parsed<Segment> {
  const text = inner.replace(/\s+/g, '');
  if (text.length === 0) return { problem: "'{}' is empty" };
  if ((TEXT_VARIABLES as readonly string[]).includes(text)) {
    return { value: { kind: 'text', variable: text as TextVariable } };
  }
  const terms: Atom[][] = [];
  for (const term of text.split('+')) {
    const factors: Atom[] = [];
    for (const factor of term.split('*')) {
      const atom = parseAtom(factor, inner);
      if ('problem' in atom) return atom;
      factors.push(atom.value);
    }
    terms.push(factors);
  }
  return { value: { kind: 'number', terms } };
}

function parseAtom(factor: string, inner: string): Parsed<Atom> {
  if (INTEGER.test(factor)) {
    const literal = Number(factor);
    if (Number.isSafeInteger(literal)) return { value: { literal } };
    return { problem: `${factor} in {${inner}} is too large` };
  }
  if ((NUMERIC_VARIABLES as readonly string[]).includes(factor)) {
    return { value: { variable: factor as NumericVariable } };
  }
  if ((TEXT_VARIABLES as readonly string[]).includes(factor)) {
    return { problem: `{${factor}} is text and cannot take part in arithmetic ({${inner}})` };
  }
  if (factor.length === 0) {
    return { problem: `{${inner}} is not an expression (use + and * between operands)` };
  }
  const known = [...NUMERIC_VARIABLES, ...TEXT_VARIABLES].join(', ');
  return { problem: `unknown placeholder '${factor}' in {${inner}} (known: ${known})` };
}

/** Checks the literal characters and that the address varies with the member. */
function checkSegments(segments: readonly Segment[]): string | undefined {
  for (const segment of segments) {
    if (segment.kind === 'literal' && !LITERAL_CHARACTERS.test(segment.text)) {
      return `'${segment.text}' may hold only host name characters, ':', '[' and ']' (no scheme, path or spaces)`;
    }
  }
  const isPerMember = segments.some(
    (segment) =>
      (segment.kind === 'text' && segment.variable === 'name') ||
      (segment.kind === 'number' &&
        segment.terms.some((term) =>
          term.some((atom) => 'variable' in atom && atom.variable === 'ordinal'),
        )),
  );
  return isPerMember
    ? undefined
    : 'it uses neither {ordinal} nor {name}, so every member would get the same address';
}

/** Splits at the last `:` outside placeholders into host and port segments. */
function splitHostPort(
  segments: readonly Segment[],
): Parsed<{ readonly host: readonly Segment[]; readonly port: readonly Segment[] }> {
  const index = segments.findLastIndex((s) => s.kind === 'literal' && s.text.includes(':'));
  const separator = segments[index];
  if (separator === undefined || separator.kind !== 'literal') {
    return { problem: "it has no ':' before the port" };
  }
  const colon = separator.text.lastIndexOf(':');
  const hostTail = separator.text.slice(0, colon);
  const portHead = separator.text.slice(colon + 1);
  const host = [...segments.slice(0, index), ...literalSegment(hostTail)];
  const port = [...literalSegment(portHead), ...segments.slice(index + 1)];
  if (host.length === 0) return { problem: "it has no host before the ':'" };
  if (port.length === 0) return { problem: "it has no port after the last ':'" };
  if (!port.every((s) => s.kind === 'number' || (s.kind === 'literal' && INTEGER.test(s.text)))) {
    return { problem: 'the port (after the last :) may hold only digits and numeric placeholders' };
  }
  const hostProblem = checkHostLiterals(host);
  return hostProblem === undefined ? { value: { host, port } } : { problem: hostProblem };
}

function literalSegment(text: string): readonly Segment[] {
  return text.length === 0 ? [] : [{ kind: 'literal', text }];
}

/** A host with a ':' is an IPv6 address and must be bracketed, as in URLs. */
function checkHostLiterals(host: readonly Segment[]): string | undefined {
  const literals = host.map((s) => (s.kind === 'literal' ? s.text : '')).join('');
  const isBracketed = host[0]?.kind === 'literal' && host[0].text.startsWith('[');
  if (literals.includes(':') && !isBracketed) {
    return 'an IPv6 host must be written in brackets, e.g. [::1]:{23800+ordinal}';
  }
  return undefined;
}

function renderSegment(segment: Segment, variables: AddressTemplateVariables): string {
  switch (segment.kind) {
    case 'literal':
      return segment.text;
    case 'text':
      return variables[segment.variable];
    case 'number':
      return String(
        segment.terms.reduce(
          (sum, term) =>
            sum +
            term.reduce(
              (product, atom) =>
                product * ('literal' in atom ? atom.literal : variables[atom.variable]),
              1,
            ),
          0,
        ),
      );
  }
}
