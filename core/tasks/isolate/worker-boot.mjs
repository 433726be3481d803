// The first module of an isolated task's worker thread. Plain JavaScript, because nothing can load
// TypeScript in a fresh worker until tsx is registered there: `--import tsx` in the worker's execArgv
// is not enough (the entry starts loading before those hooks are in place). Then the real entry.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./worker-main.ts', import.meta.url).href);
