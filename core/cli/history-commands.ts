/** `taskdeck runs` and `taskdeck show <id>`: history from the same database, in any export format. */
import type { Kernel } from '../kernel.js';
import { serialize, serializeStream, type DataFormat } from '../http/formats/serialize.js';
import { parseRunListQuery } from '../http/run-filter-query.js';
import type { QueryValues } from '../http/parse-query.js';
import { microsToMillis } from '../tasks/micros.js';
import { RUN_ROW_COLUMNS, storedToResult, storedToRow } from '../tasks/stored-result.js';

export interface RunsOptions {
  task?: string[];
  status?: string[];
  run?: string[];
  tag?: string[];
  since?: string;
  until?: string;
  limit?: string;
  arg?: string[];
  format?: DataFormat;
}

export async function runsCommand(kernel: Kernel, options: RunsOptions): Promise<number> {
  const query: QueryValues = Object.create(null) as QueryValues;
  for (const key of ['task', 'status', 'run', 'tag'] as const) if (options[key]?.length) query[key] = options[key];
  for (const key of ['since', 'until', 'limit'] as const) if (options[key]) query[key] = options[key];
  for (const pair of options.arg ?? []) {
    const cut = pair.indexOf('=');
    if (cut > 0) query[`arg.${pair.slice(0, cut)}`] = pair.slice(cut + 1);
  }
  const { filter, limit } = parseRunListQuery(query);
  if (options.format) {
    const rows = (async function* () {
      let count = 0;
      for await (const run of kernel.service.streamRuns(filter)) {
        if (options.limit && count++ >= limit) break;
        yield storedToRow(run);
      }
    })();
    for await (const chunk of serializeStream(options.format, 'runs', rows, { columns: RUN_ROW_COLUMNS, wrapKey: 'runs' })) process.stdout.write(chunk);
    return 0;
  }
  const page = await kernel.service.listRuns(filter, { limit });
  for (const run of page.runs) {
    const started = new Date(run.startedAt).toISOString().replace('T', ' ').slice(0, 19);
    const elapsed = run.status === 'running' ? '' : microsToMillis(run.elapsedUs);
    process.stdout.write(`${run.id}  ${started}  ${run.status.padEnd(11)} ${run.taskKey.padEnd(20)} ${run.label.padEnd(12)} ${elapsed}\n`);
  }
  if (page.next) process.stderr.write(`(more runs: use --limit or --format to export them all)\n`);
  return 0;
}

export async function showCommand(kernel: Kernel, id: string, format: DataFormat | undefined): Promise<number> {
  const stored = await kernel.service.getStoredRun(id);
  const logs = await kernel.service.getLogs(id);
  const result = storedToResult(stored, logs, kernel.registry.get(stored.taskKey));
  if (format) {
    process.stdout.write(serialize(format, 'result', result));
    if (format !== 'csv') process.stdout.write('\n');
    return 0;
  }
  process.stdout.write(`${result.id}  ${result.task.key}  ${result.status}  run label: ${result.run}\n`);
  process.stdout.write(`started ${result.started}, elapsed ${microsToMillis(result.elapsed)}\n`);
  process.stdout.write(`args: ${JSON.stringify(result.args)}\n`);
  if (result.tags.length) process.stdout.write(`tags: ${result.tags.join(', ')}\n`);
  if (result.error) process.stdout.write(`error: ${result.error}\n`);
  process.stdout.write('--- log\n');
  for (const line of result.logs) process.stdout.write(`${line}\n`);
  process.stdout.write(`--- data\n${result.data === undefined ? '(none)' : JSON.stringify(result.data, null, 2)}\n`);
  return 0;
}
