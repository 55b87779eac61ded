/**
 * Aligned text columns for terminal reports. Pure: returns lines, prints nothing.
 */

/** A column: its heading and whether values are right-aligned (numbers). */
export interface TableColumn {
  readonly heading: string;
  readonly isRightAligned?: boolean;
}

/**
 * Renders a heading line and one line per row, columns separated by two spaces, each line
 * prefixed with `indent`. The last column is not padded, so long text there (a status, a reason)
 * does not widen every other line.
 */
export function formatTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  indent = '  ',
): string[] {
  const widths = columns.map((column, position) =>
    Math.max(column.heading.length, ...rows.map((row) => (row[position] ?? '').length)),
  );
  const render = (cells: readonly string[]): string => {
    const padded = columns.map((column, position) => {
      const cell = cells[position] ?? '';
      if (position === columns.length - 1 && !column.isRightAligned) return cell;
      const width = widths[position] ?? 0;
      return column.isRightAligned ? cell.padStart(width) : cell.padEnd(width);
    });
    return `${indent}${padded.join('  ')}`.trimEnd();
  };
  return [render(columns.map((column) => column.heading)), ...rows.map(render)];
}
