/**
 * A Dockerfile read into stages of instructions, enough for tests to check what the image does
 * (no Docker engine here). It understands comments, line continuations, `FROM ... AS name`, exec
 * form (a JSON array) and `ENV KEY=value` pairs; not heredocs, escape directives or quoting in
 * ENV values, which raftkv's Dockerfile does not use.
 */

/** One instruction: its keyword in upper case and the rest of its (joined) line. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
}

/** One build stage: its base image, its name if any, and its instructions after FROM. */
export interface DockerStage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly DockerInstruction[];
}

/** Joins continued lines and drops comments and blank lines. */
function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    // Comment lines are removed before continuations are joined, as Docker does.
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const joined = `${pending}${line}`.trim();
    pending = '';
    if (joined !== '') lines.push(joined);
  }
  if (pending.trim() !== '') lines.push(pending.trim());
  return lines;
}

/** The stages of `text`, in order. */
export function parseDockerfile(text: string): DockerStage[] {
  const stages: { from: string; name: string | undefined; instructions: DockerInstruction[] }[] =
    [];
  for (const line of logicalLines(text)) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    const keyword = (match?.[1] ?? '').toUpperCase();
    const args = match?.[2] ?? '';
    if (keyword === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/).filter((word) => !word.startsWith('--'));
      stages.push({
        from: image,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
      continue;
    }
    stages.at(-1)?.instructions.push({ keyword, args });
  }
  return stages;
}

/** The words of an exec-form instruction, or undefined if it is in shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined;
  const words: unknown = JSON.parse(args);
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string')) return undefined;
  return words;
}

/** The variables a stage's `ENV KEY=value ...` instructions set, in order. */
export function stageEnvironment(stage: DockerStage): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    for (const pair of args.split(/\s+/)) {
      const separator = pair.indexOf('=');
      if (separator > 0) environment[pair.slice(0, separator)] = pair.slice(separator + 1);
    }
  }
  return environment;
}
