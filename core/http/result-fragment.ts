/**
 * The Result block as an HTML fragment, for the `complete` WebSocket message. Pug is loaded and the
 * template compiled on first use, not at start-up: together they are about a tenth of a start and
 * 20 MB of an idle server (koa-views loads pug lazily too).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type pug from 'pug';
import type { ResultJson } from '../tasks/types.js';
import { iconSvg } from './icons.js';
import { resultView } from './view-builders.js';

export function resultFragmentRenderer(viewsFolder: string, base: string, now: () => number): (result: ResultJson) => string {
  let template: pug.compileTemplate | undefined;
  return (result) => {
    template ??= (createRequire(import.meta.url)('pug') as typeof pug).compileFile(path.join(viewsFolder, 'result-fragment.pug'), { basedir: viewsFolder });
    // No log lines: the live page streamed them already, and the fragment leaves them out.
    return template({ view: resultView(base, result, [], now()), icon: iconSvg, base, streamed: true });
  };
}
