/** The questions history answers beyond one page of runs: text search snippets, statistics, charts, exports. */
import type { DayCount, DurationPoint, RunFilter, RunListRow, RunRepository, SearchSnippet, TaskStats } from './run-repository.js';

export class History {
  readonly #repository: RunRepository;

  constructor(repository: RunRepository) {
    this.#repository = repository;
  }

  searchSnippets(runIds: readonly string[], q: string): Promise<SearchSnippet[]> {
    return this.#repository.searchSnippets(runIds, q);
  }

  taskStats(since: number, taskKeys?: readonly string[]): Promise<TaskStats[]> {
    return this.#repository.taskStats(since, taskKeys);
  }

  runsPerDay(since: number, taskKeys?: readonly string[]): Promise<DayCount[]> {
    return this.#repository.runsPerDay(since, taskKeys);
  }

  durations(taskKey: string, limit: number): Promise<DurationPoint[]> {
    return this.#repository.durations(taskKey, limit);
  }

  /** Each task's p95 duration (µs) over its latest `sample` finished runs: the "usual" of a history page. */
  recentP95(taskKeys: readonly string[], sample: number): Promise<Map<string, number>> {
    return this.#repository.recentP95(taskKeys, sample);
  }

  /** Every run matching the filter as list rows, newest first, a page at a time: what exports stream. */
  streamRunRows(filter: RunFilter): AsyncIterable<RunListRow[]> {
    return this.#repository.streamRunRows(filter);
  }
}
