/**
 * The Yjs layouts of a partner document that the layout bench compares: four candidates built here
 * by hand, and the chosen one through the real module (src/lib/sync/partner-doc.ts).
 */
import * as Y from 'yjs';
import type { Deal, Lead, StageChange } from '../../src/lib/domain';
import {
  createRecords,
  openPartnerDoc,
  readAll,
  updateDeal,
  updateLead,
  type PartnerDoc,
} from '../../src/lib/sync/partner-doc';

export interface Loaded {
  doc: Y.Doc;
}

export interface Layout<L extends Loaded> {
  name: string;
  /** Can two devices edit different fields of one record and both keep their edit? */
  fieldMerge: boolean;
  build(leads: Lead[], deals: Deal[]): Y.Doc;
  open(doc: Y.Doc): L;
  readAll(loaded: L): number;
  editField(
    loaded: L,
    kind: 'lead' | 'deal',
    id: string,
    field: 'title' | 'company' | 'amount' | 'notes',
    value: string | number,
    at: number,
  ): void;
  changeStage(loaded: L, id: string, change: StageChange & { probability: number }): void;
}

/** The obvious layout: one nested Y.Map per record, the stage log a nested Y.Array. */
const nested: Layout<Loaded & { leads: Y.Map<Y.Map<unknown>>; deals: Y.Map<Y.Map<unknown>> }> = {
  name: 'nested Y.Map per record',
  fieldMerge: true,
  build(leads, deals) {
    const doc = new Y.Doc();
    doc.transact(() => {
      const leadMap = doc.getMap<Y.Map<unknown>>('leads');
      for (const lead of leads) leadMap.set(lead.id, new Y.Map<unknown>(Object.entries(lead)));
      const dealMap = doc.getMap<Y.Map<unknown>>('deals');
      for (const { stageLog, ...deal } of deals) {
        const record = new Y.Map<unknown>(Object.entries(deal));
        record.set('stageLog', Y.Array.from(stageLog ?? []));
        dealMap.set(deal.id, record);
      }
    });
    return doc;
  },
  open: (doc) => ({
    doc,
    leads: doc.getMap<Y.Map<unknown>>('leads'),
    deals: doc.getMap<Y.Map<unknown>>('deals'),
  }),
  readAll(loaded) {
    const out: unknown[] = [];
    loaded.leads.forEach((record) => out.push(record.toJSON()));
    loaded.deals.forEach((record) => out.push(record.toJSON()));
    return out.length;
  },
  editField(loaded, kind, id, field, value, at) {
    loaded.doc.transact(() => {
      const record = (kind === 'lead' ? loaded.leads : loaded.deals).get(id)!;
      record.set(field, value);
      if (kind === 'deal') record.set('updatedAt', at);
    });
  },
  changeStage(loaded, id, { stage, at, by, probability }) {
    loaded.doc.transact(() => {
      const record = loaded.deals.get(id)!;
      (record.get('stageLog') as Y.Array<StageChange>).push([{ stage, at, by }]);
      record.set('stage', stage);
      record.set('probability', probability);
      record.set('updatedAt', at);
    });
  },
};

/** Every field its own key `<id>/<field>` in one flat map per kind; stage changes keys of their own. */
const flatFields: Layout<Loaded & { leads: Y.Map<unknown>; deals: Y.Map<unknown> }> = {
  name: 'flat key per field',
  fieldMerge: true,
  build(leads, deals) {
    const doc = new Y.Doc();
    doc.transact(() => {
      const leadMap = doc.getMap<unknown>('leads');
      for (const lead of leads)
        for (const [field, value] of Object.entries(lead)) leadMap.set(`${lead.id}/${field}`, value);
      const dealMap = doc.getMap<unknown>('deals');
      for (const { stageLog, ...deal } of deals) {
        for (const [field, value] of Object.entries(deal)) dealMap.set(`${deal.id}/${field}`, value);
        for (const change of stageLog ?? [])
          dealMap.set(`${deal.id}/stage/${change.at}/${change.by}`, change);
      }
    });
    return doc;
  },
  open: (doc) => ({ doc, leads: doc.getMap<unknown>('leads'), deals: doc.getMap<unknown>('deals') }),
  readAll(loaded) {
    let count = 0;
    for (const map of [loaded.leads, loaded.deals]) {
      const records = new Map<string, Record<string, unknown>>();
      map.forEach((value, key) => {
        const cut = key.indexOf('/');
        const id = key.slice(0, cut);
        let record = records.get(id);
        if (!record) records.set(id, (record = {}));
        const rest = key.slice(cut + 1);
        if (rest.startsWith('stage/')) ((record['stageLog'] ??= []) as unknown[]).push(value);
        else record[rest] = value;
      });
      count += records.size;
    }
    return count;
  },
  editField(loaded, kind, id, field, value, at) {
    loaded.doc.transact(() => {
      const map = kind === 'lead' ? loaded.leads : loaded.deals;
      map.set(`${id}/${field}`, value);
      if (kind === 'deal') map.set(`${id}/updatedAt`, at);
    });
  },
  changeStage(loaded, id, { stage, at, by, probability }) {
    loaded.doc.transact(() => {
      loaded.deals.set(`${id}/stage/${at}/${by}`, { stage, at, by });
      loaded.deals.set(`${id}/probability`, probability);
      loaded.deals.set(`${id}/updatedAt`, at);
    });
  },
};

/** The floor: one JSON value per record, replaced whole on edit — no field-level merge. */
const jsonRecord: Layout<
  Loaded & { leads: Y.Map<Record<string, unknown>>; deals: Y.Map<Record<string, unknown>> }
> = {
  name: 'JSON value per record (no merge)',
  fieldMerge: false,
  build(leads, deals) {
    const doc = new Y.Doc();
    doc.transact(() => {
      const leadMap = doc.getMap<Record<string, unknown>>('leads');
      for (const lead of leads) leadMap.set(lead.id, { ...lead });
      const dealMap = doc.getMap<Record<string, unknown>>('deals');
      for (const deal of deals) dealMap.set(deal.id, { ...deal });
    });
    return doc;
  },
  open: (doc) => ({
    doc,
    leads: doc.getMap<Record<string, unknown>>('leads'),
    deals: doc.getMap<Record<string, unknown>>('deals'),
  }),
  readAll(loaded) {
    const out: unknown[] = [];
    loaded.leads.forEach((record) => out.push({ ...record }));
    loaded.deals.forEach((record) =>
      out.push({ ...record, stageLog: [...((record['stageLog'] as unknown[] | undefined) ?? [])] }),
    );
    return out.length;
  },
  editField(loaded, kind, id, field, value, at) {
    const map = kind === 'lead' ? loaded.leads : loaded.deals;
    const record = map.get(id)!;
    map.set(id, { ...record, [field]: value, ...(kind === 'deal' ? { updatedAt: at } : {}) });
  },
  changeStage(loaded, id, { stage, at, by, probability }) {
    const record = loaded.deals.get(id)!;
    const log = (record['stageLog'] as StageChange[] | undefined) ?? [];
    loaded.deals.set(id, {
      ...record,
      stage,
      probability,
      updatedAt: at,
      stageLog: [...log, { stage, at, by }],
    });
  },
};

/** The chosen layout, through the real module: base as JSON text + `<id>/<field>` overrides + stage entry keys. */
const chosen: Layout<Loaded & { pd: PartnerDoc }> = {
  name: 'base JSON text + overrides (chosen)',
  fieldMerge: true,
  build(leads, deals) {
    const pd = openPartnerDoc(new Y.Doc());
    createRecords(pd, { leads, deals }, 'bench');
    pd.close();
    return pd.doc;
  },
  open: (doc) => ({ doc, pd: openPartnerDoc(doc) }),
  readAll(loaded) {
    const { leads, deals } = readAll(loaded.pd);
    return leads.length + deals.length;
  },
  editField(loaded, kind, id, field, value, at) {
    if (kind === 'lead') updateLead(loaded.pd, id, { [field]: value });
    else updateDeal(loaded.pd, id, { [field]: value, updatedAt: at }, 'bench');
  },
  changeStage(loaded, id, { stage, at, by, probability }) {
    updateDeal(
      loaded.pd,
      id,
      { stage, probability, updatedAt: at, ...(stage === 'won' || stage === 'lost' ? { closedAt: at } : {}) },
      by,
    );
  },
};

/**
 * The layout as first suggested: the same keys, but the base value a JSON object instead of JSON
 * text. The module reads both (SPEC.md S7), so only building differs: a copy of the chosen doc.
 */
const chosenObjects: Layout<Loaded & { pd: PartnerDoc }> = {
  ...chosen,
  name: 'base JSON object + overrides',
  build(leads, deals) {
    const source = chosen.build(leads, deals);
    const doc = new Y.Doc();
    doc.transact(() => {
      for (const name of ['leads', 'deals', 'meta']) {
        const target = doc.getMap<unknown>(name);
        source
          .getMap<unknown>(name)
          .forEach((value, key) =>
            target.set(
              key,
              typeof value === 'string' && name !== 'meta' ? (JSON.parse(value) as unknown) : value,
            ),
          );
      }
    });
    source.destroy();
    return doc;
  },
};

/** Every layout, in the order of the tables: the obvious one first, the chosen one last. */
export const LAYOUTS = [nested, flatFields, jsonRecord, chosenObjects, chosen] as Layout<Loaded>[];
