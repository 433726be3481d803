/**
 * `ctx.exec`: runs a command for a task. No shell unless asked for (and then the arguments are still
 * positional parameters, never shell text); stdout and stderr go into the run's log line by line as
 * they arrive; each command runs in a process group of its own, so cancel and timeout stop everything
 * it started; a non-zero exit rejects unless the task allows it. The same code runs in the kernel's
 * thread and in a worker: everything it needs from the run comes through an ExecHost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { describeThrown } from '../errors.js';
import { LineSplitter } from './exec-lines.js';
import { groupAlive, type ProcessTracker, type TrackedGroup } from './exec-process-groups.js';
import type { LogStream } from './run-repository.js';
import type { ExecFunction, ExecOptions, ExecResult } from './types.js';

export const DEFAULT_KILL_GRACE_MS = 5000;

/** At most this many commands are listed in a run's `metadata.commands` (the latest ones). */
const MAX_RECORDED_COMMANDS = 100;

/** What `exec` needs from the run it belongs to. */
export interface ExecHost {
  appendLine(msg: string, stream: LogStream): void;
  setMetadata(key: string, value: unknown): void;
  /** The run's signal: cancel and timeout. */
  readonly signal: AbortSignal;
  readonly maxLineLength: number;
  readonly processes: ProcessTracker;
}

/** A command that could not start, exited non-zero, was killed, or was stopped with its run. */
export class ExecError extends Error {
  readonly command: string;
  readonly args: string[];
  /** Why it failed: the exit code, the signal, or the system error code (`ENOENT`). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly errno: string | null;

  constructor(message: string, details: { command: string; args: string[]; exitCode?: number | null; signal?: NodeJS.Signals | null; errno?: string | null; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ExecError';
    this.command = details.command;
    this.args = details.args;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.errno = details.errno ?? null;
  }
}

interface CommandRecord {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
  ms: number;
}

/** The `exec` of one run. It records every command it runs in the run's metadata. */
export function createExec(host: ExecHost): ExecFunction {
  const records: CommandRecord[] = [];
  const record = (entry: CommandRecord): void => {
    records.push(entry);
    if (records.length > MAX_RECORDED_COMMANDS) records.shift();
    try {
      host.setMetadata('commands', records);
      host.setMetadata('exitCode', entry.code);
      host.setMetadata('exitSignal', entry.signal);
    } catch {
      // The task filled the metadata itself; the exit is still in the log.
    }
  };
  return (command, args, options) => runCommand(host, record, command, args ?? [], options ?? {});
}

interface Plan {
  /** The command as given. */
  command: string;
  file: string;
  shell: boolean;
  argv: string[];
  /** `"du"`: how messages name the command. */
  label: string;
  /** `$ du -sh -- /srv`: what the log shows. */
  display: string;
  /** The display without `$ `, cut for `metadata.commands`. */
  recorded: string;
  args: string[];
}

async function runCommand(
  host: ExecHost,
  record: (entry: CommandRecord) => void,
  command: unknown,
  rawArgs: unknown,
  options: ExecOptions,
): Promise<ExecResult> {
  const plan = planCommand(command, rawArgs, options);
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new TypeError(`exec ${plan.label}: killGraceMs: expected milliseconds >= 0, got ${String(options.killGraceMs)}`);
  if (options.onLine !== undefined && typeof options.onLine !== 'function') throw new TypeError(`exec ${plan.label}: onLine: expected a function`);
  if (host.signal.aborted) throw stoppedError(plan, host.signal, null, null);
  host.appendLine(plan.display, 'system');
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);

  let child: ChildProcess;
  try {
    child = spawn(plan.file, plan.argv, {
      cwd: options.cwd,
      env: environment(options),
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Invalid options: a NUL byte in an argument, a cwd that is not a string.
    const message = `command ${plan.label} could not be started: ${describeThrown(error)}`;
    host.appendLine(message, 'system');
    const errno = (error as NodeJS.ErrnoException).code ?? null;
    record({ command: plan.recorded, code: null, signal: null, error: errno ?? 'invalid', ms: ms() });
    throw new ExecError(message, { command: plan.command, args: plan.args, errno, cause: error });
  }

  return new Promise<ExecResult>((resolve, reject) => {
    let group: TrackedGroup | null = null;
    let callbackError: unknown = null;
    let settled = false;
    const pid = child.pid;

    const onLine = (stream: 'stdout' | 'stderr', text: string, rewrite: boolean): void => {
      if (options.onLine && callbackError === null) {
        try {
          options.onLine(text, { stream, rewrite });
        } catch (error) {
          callbackError = error;
          group?.terminate('its onLine callback threw');
        }
      }
      if (!rewrite) host.appendLine(text, stream === 'stderr' ? 'stderr' : 'log');
    };
    const splitter = (stream: 'stdout' | 'stderr') =>
      new LineSplitter(host.maxLineLength, { line: (text) => onLine(stream, text, false), rewrite: (text) => onLine(stream, text, true) });
    const out = splitter('stdout');
    const err = splitter('stderr');
    child.stdout?.on('data', (chunk: Buffer) => out.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.write(chunk));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE: the command did not read all its input
      child.stdin.end(options.input);
    }

    const onAbort = () => group?.terminate(`run ${describeThrown(host.signal.reason)}`);
    if (pid !== undefined) {
      group = host.processes.track(pid, plan.label, graceMs);
      host.signal.addEventListener('abort', onAbort, { once: true });
    }

    const finish = (outcome: { result: ExecResult } | { error: ExecError }, line: string, entry: CommandRecord): void => {
      if (settled) return;
      settled = true;
      host.signal.removeEventListener('abort', onAbort);
      host.appendLine(line, 'system');
      record(entry);
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.error);
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      // After a successful spawn, 'error' only reports a failed kill; the group tracker handles those.
      if (pid !== undefined) return;
      void describeSpawnFailure(plan, error, options.cwd).then((message) =>
        finish(
          { error: new ExecError(message, { command: plan.command, args: plan.args, errno: error.code ?? null, cause: error }) },
          message,
          { command: plan.recorded, code: null, signal: null, error: error.code ?? 'spawn', ms: ms() },
        ),
      );
    });

    // The command itself is done; whatever it left running in its group would hold its output open.
    child.on('exit', () => {
      if (pid !== undefined && groupAlive(pid)) group?.terminate('still running after the command exited');
    });

    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (pid === undefined) return;
      out.end();
      err.end();
      group?.release();
      const result: ExecResult = { command: plan.command, args: plan.args, pid, code, signal, elapsedMs: ms() };
      const entry: CommandRecord = { command: plan.recorded, code, signal, ms: result.elapsedMs };
      const line = signal ? `command ${plan.label} was killed by ${signal}` : `command ${plan.label} exited with code ${code}`;
      if (host.signal.aborted) return finish({ error: stoppedError(plan, host.signal, code, signal) }, line, entry);
      if (callbackError !== null) {
        const message = `command ${plan.label} was stopped: its onLine callback threw: ${describeThrown(callbackError)}`;
        return finish({ error: new ExecError(message, { command: plan.command, args: plan.args, exitCode: code, signal, cause: callbackError }) }, line, entry);
      }
      if ((code === 0 && signal === null) || options.allowNonZero) return finish({ result }, line, entry);
      return finish({ error: new ExecError(line, { command: plan.command, args: plan.args, exitCode: code, signal }) }, line, entry);
    });
  });
}

function planCommand(command: unknown, rawArgs: unknown, options: ExecOptions): Plan {
  if (typeof command !== 'string' || command === '') throw new TypeError(`exec: expected a command (a non-empty string), got ${typeof command === 'string' ? 'an empty string' : typeof command}`);
  const label = JSON.stringify(command.length > 80 ? `${command.slice(0, 80)}…` : command);
  if (!Array.isArray(rawArgs)) throw new TypeError(`exec ${label}: expected the arguments as an array, got ${typeof rawArgs}`);
  const args = rawArgs.map((arg: unknown, i) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' && Number.isFinite(arg)) return String(arg);
    throw new TypeError(`exec ${label}: argument ${i}: expected a string or a finite number, got ${arg === null ? 'null' : typeof arg}`);
  });
  const shell = options.shell ?? false;
  if (shell !== false && shell !== true && (typeof shell !== 'string' || shell === '')) throw new TypeError(`exec ${label}: shell: expected true or the path of a shell`);
  // `sh -c script sh arg1 arg2`: the arguments are the script's $1, $2…, never parsed as shell text.
  const file = shell === false ? command : shell === true ? '/bin/sh' : shell;
  const argv = shell === false ? args : ['-c', command, 'sh', ...args];
  const shown = [file, ...argv].map(quoteForDisplay).join(' ');
  return { command, file, shell: shell !== false, argv, label, display: `$ ${shown}`, recorded: shown.slice(0, 200), args };
}

function environment(options: ExecOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (options.inheritEnv !== false) {
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TASKDECK_')) env[key] = value;
  }
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = String(value);
  }
  return env;
}

async function describeSpawnFailure(plan: Plan, error: NodeJS.ErrnoException, cwd: string | undefined): Promise<string> {
  const code = error.code ?? 'unknown';
  if (code === 'ENOENT' && cwd !== undefined && !(await isDirectory(cwd))) return `working directory ${JSON.stringify(cwd)} of command ${plan.label} does not exist (ENOENT)`;
  if (code === 'ENOENT') return `command ${plan.shell ? `${JSON.stringify(plan.file)} (the shell)` : plan.label} not found (ENOENT)`;
  if (code === 'EACCES') return `command ${plan.label} cannot be run: permission denied (EACCES)`;
  return `command ${plan.label} could not be started: ${error.message}`;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

function stoppedError(plan: Plan, signal: AbortSignal, code: number | null, killedBy: NodeJS.Signals | null): ExecError {
  const reason = describeThrown(signal.reason);
  return new ExecError(`command ${plan.label} was stopped: run ${reason}`, { command: plan.command, args: plan.args, exitCode: code, signal: killedBy, cause: signal.reason });
}

/** Shell-like quoting for the log only: the command is never run through this text. */
function quoteForDisplay(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  if (/[\u0000-\u001f\u007f]/.test(arg)) return JSON.stringify(arg);
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
