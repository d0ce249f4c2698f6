// The KPI report from the interchange CSV files; see src/lib/cli/kpi-command.ts and docs/kpis.md.
import { readFileSync } from 'node:fs';
import { runKpiCommand } from '../src/lib/cli/kpi-command';

const result = runKpiCommand(process.argv.slice(2), (path) => readFileSync(path, 'utf8'));
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
process.exitCode = result.code;
