/**
 * What the layout bench measures of a layout: a load of the encoded state, the heap a loaded doc
 * holds, one field edit, and a year of edits (ageing). Collections are forced (`--expose-gc` set at
 * run time) so that heap figures hold only what is reachable.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import * as Y from 'yjs';
import { seededRandom } from '../../src/lib/demo/generate';
import type { Deal, Lead } from '../../src/lib/domain';
import { median } from '../stats';
import type { Layout, Loaded } from './layouts';

/** Ageing: a year of a busy partner — every deal and half the leads edited once, two stage moves per deal. */
export const AGE_FIELD_EDITS = 40_000;
export const AGE_STAGE_CHANGES = 40_000;

v8.setFlagsFromString('--expose-gc');
export const gc = vm.runInNewContext('gc') as () => void;

/** The result of `action` and how long it took, ms. */
export const time = <T>(action: () => T): [T, number] => {
  const start = performance.now();
  const result = action();
  return [result, performance.now() - start];
};
/** The heap in use after full collections. */
export const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

export interface LoadFigures {
  applyMs: number;
  indexMs: number;
  readMs: number;
  totalMs: number;
}

/** One load: Y.applyUpdate into a new doc, the layout's index, every record read out. */
export function measureLoad<L extends Loaded>(
  layout: Layout<L>,
  update: Uint8Array,
  count: number,
): LoadFigures {
  gc();
  const doc = new Y.Doc();
  const [, applyMs] = time(() => Y.applyUpdate(doc, update));
  const [loaded, indexMs] = time(() => layout.open(doc));
  const [read, readMs] = time(() => layout.readAll(loaded));
  if (read !== count) throw new Error(`${layout.name} read ${read} records, expected ${count}`);
  doc.destroy();
  return { applyMs, indexMs, readMs, totalMs: applyMs + indexMs + readMs };
}

/** The fastest run: on a shared machine the slower ones measure the neighbours, not the layout. */
export const fastest = (samples: LoadFigures[]) =>
  samples.reduce((best, sample) => (sample.totalMs < best.totalMs ? sample : best));

/** Heap held by a loaded doc (and its index), measured after full collections. */
export function measureHeap<L extends Loaded>(layout: Layout<L>, update: Uint8Array): number {
  const before = heapUsed();
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  const loaded = layout.open(doc);
  const after = heapUsed();
  if (loaded.doc !== doc) throw new Error('unreachable');
  doc.destroy();
  return after - before;
}

export interface Sample {
  kind: 'lead' | 'deal';
  id: string;
}

export function measureEdits<L extends Loaded>(
  layout: Layout<L>,
  update: Uint8Array,
  samples: Sample[],
  start: number,
) {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  const loaded = layout.open(doc);
  const sizes: number[] = [];
  doc.on('update', (edit: Uint8Array) => sizes.push(edit.byteLength));
  const times = samples.map(
    ({ id }, n) =>
      time(() => layout.editField(loaded, 'deal', id, 'title', `Edited title ${n}`, start + n))[1],
  );
  doc.destroy();
  return { editMs: median(times), editBytes: median(sizes) };
}

/** A year of edits, the same for every layout (drawn from `seed`): field edits of deals and leads, stage moves of deals. */
export function age<L extends Loaded>(
  layout: Layout<L>,
  update: Uint8Array,
  leads: Lead[],
  deals: Deal[],
  start: number,
  seed: number,
): Uint8Array {
  const random = seededRandom(seed);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  const loaded = layout.open(doc);
  for (let n = 0; n < AGE_FIELD_EDITS; n++) {
    const at = start + n * 1000;
    if (n % 2 === 0)
      layout.editField(
        loaded,
        'deal',
        deals[Math.floor(random() * deals.length)]!.id,
        'amount',
        100 * (1 + Math.floor(random() * 100_000)),
        at,
      );
    else
      layout.editField(
        loaded,
        'lead',
        leads[Math.floor(random() * leads.length)]!.id,
        'company',
        `Renamed ${n} Pvt Ltd`,
        at,
      );
  }
  const openStages = ['prospecting', 'qualified', 'proposal', 'negotiation'] as const;
  for (let n = 0; n < AGE_STAGE_CHANGES; n++) {
    const at = start + (AGE_FIELD_EDITS + n) * 1000;
    const deal = deals[Math.floor(random() * deals.length)]!;
    const stage = openStages[Math.floor(random() * openStages.length)]!;
    layout.changeStage(loaded, deal.id, { stage, at, by: deal.repId, probability: 40 });
  }
  const aged = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return aged;
}
