/** What the layout bench prints: its figures as Markdown tables, one row per layout. */
import { AGE_FIELD_EDITS, AGE_STAGE_CHANGES, type LoadFigures } from './measure';

export const MB = 1024 * 1024;

/** One layout's figures. */
export interface Row {
  layout: string;
  merge: string;
  buildMs: number;
  bytes: number;
  load: LoadFigures;
  heap: number;
  editMs: number;
  editBytes: number;
  agedBytes: number;
  agedLoad: LoadFigures;
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);

function printTable(table: string[][]) {
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  for (const [n, line] of table.entries()) {
    console.log(
      `| ${line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`,
    );
    if (n === 0)
      console.log(
        `|${widths.map((width, column) => (column === 0 ? `${'-'.repeat(width + 2)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`,
      );
  }
}

const loadCells = (load: LoadFigures) => [
  fixed(load.applyMs),
  fixed(load.indexMs, 1),
  fixed(load.readMs),
  fixed(load.totalMs),
];

/** The two tables, as created and aged, in Markdown (as the sync SPEC holds them). */
export function printTables(
  rows: Row[],
  { jsonBytes, plainHeap }: { jsonBytes: number; plainHeap: number },
): void {
  console.log('As created:');
  printTable([
    [
      'layout',
      'field merge',
      'state MB',
      '× JSON',
      'apply ms',
      'index ms',
      'read all ms',
      'load ms',
      'heap MB',
      '× plain heap',
      'edit ms',
      'edit bytes',
    ],
    ...rows.map((row) => [
      row.layout,
      row.merge,
      fixed(row.bytes / MB, 2),
      fixed(row.bytes / jsonBytes, 2),
      ...loadCells(row.load),
      fixed(row.heap / MB, 1),
      fixed(row.heap / plainHeap, 2),
      fixed(row.editMs, 3),
      fixed(row.editBytes),
    ]),
  ]);
  console.log(
    `\nAged (${AGE_FIELD_EDITS} field edits + ${AGE_STAGE_CHANGES} stage changes, one transaction each):`,
  );
  printTable([
    ['layout', 'state MB', '× JSON', 'apply ms', 'index ms', 'read all ms', 'load ms'],
    ...rows.map((row) => [
      row.layout,
      fixed(row.agedBytes / MB, 2),
      fixed(row.agedBytes / jsonBytes, 2),
      ...loadCells(row.agedLoad),
    ]),
  ]);
}
