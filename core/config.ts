/**
 * Configuration: `config/default.json` < `config/local.json` (optional, git-ignored) < `TASKDECK_*`
 * environment variables < command-line flags. Every value is validated, and a bad one names its source.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TaskdeckError } from './errors.js';

export interface Config {
  host: string;
  port: number;
  /** SQLite file, or `:memory:`. */
  db: string;
  plugins: string;
  watchPlugins: boolean;
  /** When set, every /admin route needs it; required to listen on a non-loopback address. */
  token: string;
  logLevel: string;
  limits: { maxLineLength: number; maxDataBytes: number; maxLogLines: number };
  /** History retention; `intervalMinutes: 0` turns the periodic prune off (`taskdeck prune` still works). */
  retention: { maxAgeDays: number; keepPerTask: number; maxBytes: number; intervalMinutes: number };
}

export const CONFIG_FOLDER = path.resolve(import.meta.dirname, '../config');

const ENV_KEYS: Record<string, keyof Config> = {
  TASKDECK_HOST: 'host',
  TASKDECK_PORT: 'port',
  TASKDECK_DB: 'db',
  TASKDECK_PLUGINS: 'plugins',
  TASKDECK_WATCH_PLUGINS: 'watchPlugins',
  TASKDECK_TOKEN: 'token',
  TASKDECK_LOG_LEVEL: 'logLevel',
};

export interface LoadConfigOptions {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  folder?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const folder = options.folder ?? CONFIG_FOLDER;
  const env = options.env ?? process.env;
  const layers: [string, Record<string, unknown>][] = [
    ['config/default.json', readJson(path.join(folder, 'default.json'), true)],
    ['config/local.json', readJson(path.join(folder, 'local.json'), false)],
    ['environment', fromEnv(env)],
    ['command line', fromFlags(options.argv ?? [])],
  ];
  let merged: Record<string, unknown> = {};
  for (const [, layer] of layers) {
    merged = { ...merged, ...layer, limits: { ...(merged.limits as object), ...(layer.limits as object) }, retention: { ...(merged.retention as object), ...(layer.retention as object) } };
  }
  return validate(merged);
}

/** Config for tests and library use: the defaults with overrides, no files or environment. */
export type ConfigOverrides = Omit<Partial<Config>, 'limits' | 'retention'> & { limits?: Partial<Config['limits']>; retention?: Partial<Config['retention']> };

export function configWith(overrides: ConfigOverrides = {}): Config {
  const defaults = readJson(path.join(CONFIG_FOLDER, 'default.json'), true);
  return validate({ ...defaults, ...overrides, limits: { ...(defaults.limits as object), ...overrides.limits }, retention: { ...(defaults.retention as object), ...overrides.retention } });
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function readJson(file: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw invalid(`cannot read ${file}: ${(error as Error).message}`, error);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw invalid(`${file}: ${(error as Error).message}`, error);
  }
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = fromText(key, value, name);
  }
  return out;
}

function fromFlags(argv: string[]): Record<string, unknown> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' }, db: { type: 'string' }, plugins: { type: 'string' }, 'no-watch': { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  });
  const out: Record<string, unknown> = {};
  for (const key of ['port', 'host', 'db', 'plugins'] as const) {
    if (values[key] !== undefined) out[key] = fromText(key, values[key], `--${key}`);
  }
  if (values['no-watch']) out.watchPlugins = false;
  return out;
}

function fromText(key: keyof Config, text: string, source: string): unknown {
  if (key === 'port') {
    if (!/^[0-9]{1,5}$/.test(text)) throw invalid(`${source}: expected a port number 0-65535, got "${text}"`);
    return Number(text);
  }
  if (key === 'watchPlugins') {
    if (!/^(true|false|1|0)$/i.test(text)) throw invalid(`${source}: expected true or false, got "${text}"`);
    return /^(true|1)$/i.test(text);
  }
  return text;
}

function validate(raw: Record<string, unknown>): Config {
  const limits = (raw.limits ?? {}) as Record<string, unknown>;
  const retention = (raw.retention ?? {}) as Record<string, unknown>;
  const config: Config = {
    host: str(raw, 'host'),
    port: int(raw.port, 'port', 0, 65535),
    db: str(raw, 'db'),
    plugins: str(raw, 'plugins'),
    watchPlugins: bool(raw, 'watchPlugins'),
    token: typeof raw.token === 'string' ? raw.token : '',
    logLevel: str(raw, 'logLevel'),
    limits: {
      maxLineLength: int(limits.maxLineLength, 'limits.maxLineLength', 80, 10_000_000),
      maxDataBytes: int(limits.maxDataBytes, 'limits.maxDataBytes', 1024, 1_073_741_824),
      maxLogLines: int(limits.maxLogLines, 'limits.maxLogLines', 2, 100_000_000),
    },
    retention: {
      maxAgeDays: int(retention.maxAgeDays, 'retention.maxAgeDays', 0, 100_000),
      keepPerTask: int(retention.keepPerTask, 'retention.keepPerTask', 0, 100_000_000),
      maxBytes: int(retention.maxBytes, 'retention.maxBytes', 0, Number.MAX_SAFE_INTEGER),
      intervalMinutes: int(retention.intervalMinutes, 'retention.intervalMinutes', 0, 100_000),
    },
  };
  if (!isLoopback(config.host) && !config.token) {
    throw invalid(`host "${config.host}" is not a loopback address: set a token (TASKDECK_TOKEN) before listening on it`);
  }
  return config;
}

function str(raw: Record<string, unknown>, key: string): string {
  const value = raw[key];
  if (typeof value !== 'string' || value === '') throw invalid(`${key}: expected a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function bool(raw: Record<string, unknown>, key: string): boolean {
  const value = raw[key];
  if (typeof value !== 'boolean') throw invalid(`${key}: expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

function int(value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function invalid(message: string, cause?: unknown): TaskdeckError {
  return new TaskdeckError('ERR_INVALID_CONFIG', `invalid configuration: ${message}`, { cause });
}
