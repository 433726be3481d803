// `import { createKernel } from 'taskdeck'` in a host that runs plain JavaScript: registers tsx (as the
// `taskdeck` command does), then re-exports the TypeScript entry. A static `export ... from
// './index.ts'` would be linked before `register()` runs, hence the dynamic import and this explicit
// list of the runtime exports (test/library/create-kernel.test.ts keeps it equal to core/index.ts).
// Registering is global: the host's own `.ts` imports are compiled by tsx from then on too.
import { register } from 'tsx/esm/api';

register();
const api = await import('./index.ts');

export const { createKernel, TaskdeckKernel, Kernel, defineTask, definePlugin, loadConfig, configWith } = api;
