/**
 * Checks of names the node configuration and identity accept: DNS labels and subdomains
 * (Kubernetes' RFC 1123 and RFC 1035 rules), host names and member names. Each check returns what
 * was expected (a phrase completing "expected ...") or `undefined`; none throws or reads anything.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const HOST_LABEL = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/;
const MEMBER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DNS_LABEL_CHARACTERS_MAX = 63;
const DNS_NAME_CHARACTERS_MAX = 253;

/** An RFC 1123 label (a namespace, a StatefulSet's name): lowercase, digits, '-', 63 at most. */
export function checkDnsLabel(text: string): string | undefined {
  return DNS_LABEL.test(text) && text.length <= DNS_LABEL_CHARACTERS_MAX
    ? undefined
    : "a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";
}

/** An RFC 1035 label, what Kubernetes requires of a Service name: starts with a letter. */
export function checkServiceName(text: string): string | undefined {
  return DNS_1035_LABEL.test(text) && text.length <= DNS_LABEL_CHARACTERS_MAX
    ? undefined
    : "a Service name: at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit";
}

/** A DNS subdomain such as `cluster.local` (lowercase, no trailing dot). */
export function checkDnsSubdomain(text: string): string | undefined {
  const isValid =
    text.length <= DNS_NAME_CHARACTERS_MAX &&
    text.split('.').every((label) => checkDnsLabel(label) === undefined);
  return isValid ? undefined : 'a DNS domain such as cluster.local (lowercase, no trailing dot)';
}

/** A host name: dot-separated labels of letters, digits and '-'. */
export function checkHostname(text: string): string | undefined {
  const isValid =
    text.length <= DNS_NAME_CHARACTERS_MAX &&
    text.split('.').every((label) => HOST_LABEL.test(label) && label.length <= 63);
  return isValid ? undefined : "a host name: dot-separated labels of letters, digits and '-'";
}

/** A member name; it becomes a directory name under the default data directory, so no '/'. */
export function checkMemberName(text: string): string | undefined {
  return MEMBER_NAME.test(text) && text.length <= DNS_NAME_CHARACTERS_MAX
    ? undefined
    : "a name of at most 253 letters, digits, '.', '_' and '-', starting with a letter or digit";
}

/** Text without whitespace or control characters, at most `charactersMax` long. */
export function checkPrintable(text: string, charactersMax: number): string | undefined {
  // eslint-disable-next-line no-control-regex
  return /^[^\s\u0000-\u001f\u007f]+$/.test(text) && text.length <= charactersMax
    ? undefined
    : `at most ${charactersMax} characters without spaces or control characters`;
}
