/**
 * What a scenario gets from the runner: the size, the number of rounds, temp folders that are removed
 * at the end, fixtures shared between scenarios (the generated history), and `measure`, which runs the
 * rounds, records every one of them for `results.json`, and returns the per-figure medians.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Size } from './scenario-result.js';
import { median } from './stats.js';

export type Figures = Record<string, number>;

export interface MeasureOptions {
  /** Unrecorded rounds first (JIT, caches). Default 0; none at size tiny, which only checks the code runs. */
  warmup?: number;
  /** Overrides the run's round count for this measurement. */
  rounds?: number;
}

export interface BenchContext {
  readonly size: Size;
  readonly rounds: number;
  /** Node options for the servers a scenario spawns (`--cpu-prof` under `--profile`). */
  readonly childExecArgv: readonly string[];
  /** Install what a scenario needs (redis-server) when it is missing. */
  readonly install: boolean;
  log(message: string): void;
  /** A fresh folder under the OS temp folder, removed when the bench ends. */
  tempDir(label: string): string;
  /** Runs `round` N times and returns the median of each figure; the rounds go to results.json. */
  measure<F extends Figures>(name: string, round: (index: number) => Promise<F>, options?: MeasureOptions): Promise<F>;
  /** Builds a fixture once per bench run (the first scenario that asks pays for it). */
  shared<T>(key: string, make: () => Promise<T>, dispose?: (value: T) => Promise<void> | void): Promise<T>;
  /** Extra facts for results.json (data set sizes, set-up times). */
  record(key: string, value: unknown): void;
}

export interface ScenarioRecord {
  rounds: Record<string, Figures[]>;
  facts: Record<string, unknown>;
}

/** One bench run: owns the temp folders and shared fixtures, hands each scenario its context. */
export class BenchRun {
  readonly size: Size;
  readonly rounds: number;
  readonly childExecArgv: readonly string[];
  readonly install: boolean;
  readonly records = new Map<string, ScenarioRecord>();
  readonly #dirs: string[] = [];
  readonly #shared = new Map<string, { value: Promise<unknown>; dispose?: (value: never) => Promise<void> | void }>();
  readonly #log: (message: string) => void;

  constructor(options: { size: Size; rounds: number; log: (message: string) => void; childExecArgv?: readonly string[]; install?: boolean }) {
    this.size = options.size;
    this.rounds = options.rounds;
    this.childExecArgv = options.childExecArgv ?? [];
    this.install = options.install ?? true;
    this.#log = options.log;
  }

  contextFor(id: string): BenchContext {
    const record: ScenarioRecord = { rounds: {}, facts: {} };
    this.records.set(id, record);
    const run = this;
    return {
      size: this.size,
      rounds: this.rounds,
      childExecArgv: this.childExecArgv,
      install: this.install,
      log: (message) => this.#log(`  ${id}: ${message}`),
      tempDir: (label) => this.#tempDir(`${id}-${label}`),
      record: (key, value) => void (record.facts[key] = value),
      async measure<F extends Figures>(name: string, round: (index: number) => Promise<F>, options: MeasureOptions = {}): Promise<F> {
        const warmup = run.size === 'tiny' ? 0 : (options.warmup ?? 0);
        for (let i = 0; i < warmup; i++) await round(-1 - i);
        const samples: F[] = [];
        const count = options.rounds ?? run.rounds;
        for (let i = 0; i < count; i++) samples.push(await round(i));
        record.rounds[name] = samples;
        const keys = Object.keys(samples[0] ?? {});
        return Object.fromEntries(keys.map((key) => [key, median(samples.map((s) => s[key]!))])) as F;
      },
      shared: <T>(key: string, make: () => Promise<T>, dispose?: (value: T) => Promise<void> | void) => this.#sharedFixture(key, make, dispose),
    };
  }

  /** Disposes shared fixtures (newest first) and removes every temp folder. Idempotent. */
  async close(): Promise<void> {
    for (const [key, entry] of [...this.#shared].reverse()) {
      this.#shared.delete(key);
      try {
        const value = await entry.value;
        await entry.dispose?.(value as never);
      } catch {
        // A fixture that failed to build has nothing to dispose.
      }
    }
    for (const dir of this.#dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }

  #tempDir(label: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `taskdeck-bench-${label}-`));
    this.#dirs.push(dir);
    return dir;
  }

  #sharedFixture<T>(key: string, make: () => Promise<T>, dispose?: (value: T) => Promise<void> | void): Promise<T> {
    let entry = this.#shared.get(key);
    if (!entry) {
      entry = { value: make(), dispose: dispose as ((value: never) => Promise<void> | void) | undefined };
      this.#shared.set(key, entry);
    }
    return entry.value as Promise<T>;
  }
}
