/**
 * What a scenario reports: one row per measured figure, with its baseline, goal and verdict. Figures
 * are medians of the rounds; the rounds themselves go to `bench/results.json`.
 */

export type Size = 'tiny' | 'small' | 'full';

export const SIZES: readonly Size[] = ['tiny', 'small', 'full'];

/** A goal: its text for the table, and whether a median figure meets it. */
export interface Goal {
  text: string;
  test(figures: { taskdeck: number; baseline: number | null; ratio: number | null }): boolean;
}

export interface ScenarioResult {
  /** `P1`, or `P3-tag-http` for one of several figures of a scenario. */
  id: string;
  /** What was measured, in a few words. */
  scenario: string;
  status: 'ok' | 'skipped' | 'error';
  taskdeck: number | null;
  baseline: number | null;
  /** What the baseline is (`hand-written, 1 txn/run`). */
  baselineLabel: string;
  unit: string;
  /** taskdeck / baseline. */
  ratio: number | null;
  goal: string;
  met: boolean | null;
  notes: string;
}

export interface ResultInput {
  id: string;
  scenario: string;
  taskdeck: number;
  baseline?: number | null;
  baselineLabel?: string;
  unit: string;
  goal?: Goal;
  notes?: string | readonly string[];
}

/** Builds a measured row: ratio and verdict follow from the figures. */
export function result(input: ResultInput): ScenarioResult {
  const baseline = input.baseline ?? null;
  const ratio = baseline !== null && baseline !== 0 && Number.isFinite(baseline) ? input.taskdeck / baseline : null;
  const goal = input.goal;
  return {
    id: input.id,
    scenario: input.scenario,
    status: 'ok',
    taskdeck: input.taskdeck,
    baseline,
    baselineLabel: input.baselineLabel ?? '',
    unit: input.unit,
    ratio,
    goal: goal?.text ?? '-',
    met: goal ? goal.test({ taskdeck: input.taskdeck, baseline, ratio }) : null,
    notes: typeof input.notes === 'string' ? input.notes : (input.notes ?? []).filter(Boolean).join('; '),
  };
}

/** A row for a scenario that could not be measured here (a missing service), with the reason. */
export function skipped(id: string, scenario: string, reason: string): ScenarioResult {
  return { id, scenario, status: 'skipped', taskdeck: null, baseline: null, baselineLabel: '', unit: '', ratio: null, goal: '-', met: null, notes: `skipped: ${reason}` };
}

/** A row for a scenario that threw: the bench goes on, and exits non-zero at the end. */
export function failed(id: string, error: unknown): ScenarioResult {
  const message = error instanceof Error ? error.message : String(error);
  return { id, scenario: '', status: 'error', taskdeck: null, baseline: null, baselineLabel: '', unit: '', ratio: null, goal: '-', met: null, notes: `error: ${message}` };
}

/** taskdeck reaches at least `fraction` of the baseline (higher is better). */
export function ratioAtLeast(fraction: number): Goal {
  return { text: `>= ${Math.round(fraction * 100)}% of baseline`, test: ({ ratio }) => ratio !== null && ratio >= fraction };
}

/** taskdeck beats the baseline (higher is better). */
export function faster(): Goal {
  return { text: 'taskdeck faster', test: ({ ratio }) => ratio !== null && ratio > 1 };
}

export function below(limit: number, unit: string): Goal {
  return { text: `< ${limit} ${unit}`, test: ({ taskdeck }) => taskdeck < limit };
}

export function atLeast(limit: number, unit: string): Goal {
  return { text: `>= ${limit.toLocaleString('en-US')} ${unit}`, test: ({ taskdeck }) => taskdeck >= limit };
}

/** Picks the figure for a size. */
export function bySize<T>(size: Size, values: Record<Size, T>): T {
  return values[size];
}
