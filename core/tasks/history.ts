/** The questions history answers beyond one page of runs: text search snippets, statistics, charts. */
import type { DayCount, DurationPoint, RunRepository, SearchSnippet, TaskStats } from './run-repository.js';

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
}
