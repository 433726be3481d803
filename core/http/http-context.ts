/** What routes need from the kernel, and the per-request state the middleware chain fills in. */
import type { PluginLoader } from '../plugins/plugin-loader.js';
import type { History } from '../tasks/history.js';
import type { Presets } from '../tasks/presets.js';
import type { Retention } from '../tasks/retention.js';
import type { TaskRegistry } from '../tasks/registry.js';
import type { TaskService } from '../tasks/task-service.js';
import type { Format } from './formats/select-format.js';
import type { QueryValues } from './parse-query.js';

export interface HttpDeps {
  service: TaskService;
  /** Search snippets and statistics over the stored runs. */
  history: History;
  presets: Presets;
  /** The retention policy, its read-only preview and "prune now" (the retention page). */
  retention: Pick<Retention, 'policy' | 'preview' | 'prune'>;
  registry: TaskRegistry;
  plugins: Pick<PluginLoader, 'failures'>;
  /** Path prefix where the admin is mounted ('' standalone). */
  base: string;
  loopbackOnly: boolean;
  /** How long a sync run may hold the request before it answers 202 with a link to the run. */
  syncWaitMs: number;
  now: () => number;
}

export interface RequestState {
  query: QueryValues;
  format: Format;
  nonce: string;
  /** Handler name, used by `?format=debug` and download file names. */
  action: string;
}
