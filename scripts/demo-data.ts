// Writes the deterministic demo program as leads.csv and deals.csv: npm run demo-data -- --seed 1 --out DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportDealsCsv, exportLeadsCsv } from '../src/lib/csv/interchange';
import { DEMO_END, generateDemoProgram } from '../src/lib/demo/generate';

const usage = `Usage: npm run demo-data -- --seed <integer> --out <folder> [--end YYYY-MM-DD (default ${DEMO_END})] [--leads-per-rep-month 9]`;

function main(): number {
  let values;
  try {
    values = parseArgs({
      options: {
        seed: { type: 'string', default: '1' },
        out: { type: 'string' },
        end: { type: 'string' },
        'leads-per-rep-month': { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`demo-data: ${(error as Error).message}\n${usage}`);
    return 1;
  }
  const seed = Number(values.seed);
  const perRep =
    values['leads-per-rep-month'] === undefined ? undefined : Number(values['leads-per-rep-month']);
  if (!Number.isInteger(seed)) return fail(`--seed "${values.seed}" must be an integer`);
  if (!values.out) return fail('--out <folder> is required');
  if (perRep !== undefined && !(perRep > 0)) return fail(`--leads-per-rep-month must be a positive number`);
  let demo;
  try {
    demo = generateDemoProgram({
      seed,
      ...(values.end ? { end: values.end } : {}),
      ...(perRep ? { leadsPerRepMonth: perRep } : {}),
    });
  } catch (error) {
    return fail((error as Error).message);
  }
  mkdirSync(values.out, { recursive: true });
  const tz = demo.program.timeZone;
  writeFileSync(join(values.out, 'leads.csv'), exportLeadsCsv(demo.leads, tz));
  writeFileSync(join(values.out, 'deals.csv'), exportDealsCsv(demo.deals, tz));
  console.error(
    `demo-data: ${demo.leads.length} leads and ${demo.deals.length} deals of ${demo.partners.length} partners and ${demo.reps.length} reps → ${values.out}`,
  );
  return 0;
}

function fail(reason: string): number {
  console.error(`demo-data: ${reason}\n${usage}`);
  return 1;
}

process.exitCode = main();
