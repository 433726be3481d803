/** `taskdeck run <key> [k=v ...]`: runs a task with the same kernel and store, streaming its log. */
import { SingleBar } from 'cli-progress';
import type { Kernel } from '../kernel.js';
import type { RunEvent } from '../tasks/live-run.js';
import type { ResultJson } from '../tasks/types.js';
import { parseKeyValues } from './kv-args.js';

export interface RunCommandOptions {
  label?: string;
  json?: boolean;
}

/** Exit codes: 0 the run ended ok, 1 it did not (error, timeout, cancelled). */
export async function runCommand(kernel: Kernel, key: string, pairs: string[], options: RunCommandOptions): Promise<number> {
  const task = kernel.registry.require(key);
  const args = kernel.service.prepareArgs(task, { raw: parseKeyValues(pairs) });
  const live = await kernel.service.start(task, args, { label: options.label, origin: 'cli' });
  const bar = process.stderr.isTTY && !options.json ? new SingleBar({ format: ' {bar} {value}/{total} {message}', stream: process.stderr, hideCursor: true }) : null;
  let barStarted = false;
  const print = (event: RunEvent) => {
    if (options.json) return;
    if (event.type === 'log') {
      bar?.stop();
      barStarted = false;
      (event.line.stream === 'stderr' ? process.stderr : process.stdout).write(`${event.line.msg}\n`);
    } else if (event.type === 'progress' && bar) {
      if (!barStarted) bar.start(event.progress.total, event.progress.done, { message: event.progress.message });
      else bar.update(event.progress.done, { message: event.progress.message });
      bar.setTotal(event.progress.total);
      barStarted = true;
    }
  };
  live.subscribe(print);
  const onSigint = () => void kernel.service.cancel(live.id).catch(() => undefined);
  process.once('SIGINT', onSigint);
  const result = await live.done;
  process.off('SIGINT', onSigint);
  bar?.stop();
  if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stderr.write(`${summaryLine(result)}\n`);
  return result.status === 'ok' ? 0 : 1;
}

function summaryLine(result: ResultJson): string {
  const error = result.error ? `: ${result.error}` : '';
  return `run ${result.id} ${result.status}${error}`;
}
