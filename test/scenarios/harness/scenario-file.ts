/**
 * The scenario file format: blocks of `#` prose (and blank lines), one command line, a `----`
 * separator and the expected output, which ends at the next blank line. Parsing keeps the prose
 * exactly as written so that rendering a file with its own outputs gives the file back; the
 * runner renders it with the actual outputs and compares the two. It knows nothing of Raft.
 */

/** The line between a command and its output. */
export const SEPARATOR = '----';

/** One command of a scenario file with everything written before it. */
export interface ScenarioBlock {
  /** Prose and blank lines before the command, verbatim. */
  readonly proseLines: readonly string[];
  readonly command: string;
  /** 1-based line number of the command, for error messages. */
  readonly lineNumber: number;
  /** The output lines as written in the file (empty when none were written yet). */
  readonly expectedLines: readonly string[];
}

/** A parsed scenario file. */
export interface ScenarioFile {
  readonly blocks: readonly ScenarioBlock[];
  /** Prose after the last block, verbatim. */
  readonly trailingLines: readonly string[];
}

function isProse(line: string): boolean {
  return line.trim() === '' || line.startsWith('#');
}

/** Parses a scenario file. A command without `----` gets an empty expected output. */
export function parseScenarioFile(text: string): ScenarioFile {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const blocks: ScenarioBlock[] = [];
  let proseLines: string[] = [];
  let position = 0;
  while (position < lines.length) {
    const line = lines[position] as string;
    if (isProse(line)) {
      proseLines.push(line);
      position++;
      continue;
    }
    const lineNumber = position + 1;
    position++;
    const expectedLines: string[] = [];
    if (lines[position] === SEPARATOR) {
      position++;
      while (position < lines.length && (lines[position] as string).trim() !== '') {
        expectedLines.push(lines[position] as string);
        position++;
      }
      if (position < lines.length) position++; // the blank line closing the output
    }
    blocks.push({ proseLines, command: line, lineNumber, expectedLines });
    proseLines = [];
  }
  return { blocks, trailingLines: proseLines };
}

/**
 * Renders a scenario file with the given outputs (one per block, each non-empty and without
 * blank lines). Every output is followed by one blank line; the file ends with a newline.
 */
export function renderScenarioFile(file: ScenarioFile, outputs: readonly string[]): string {
  const parts: string[] = [];
  file.blocks.forEach((block, position) => {
    parts.push(...block.proseLines, block.command, SEPARATOR);
    parts.push(...(outputs[position] ?? '').split('\n'), '');
  });
  parts.push(...file.trailingLines);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('\n') + '\n';
}
