/**
 * The Result block as an HTML fragment, for the `complete` WebSocket message. Compiled on first use, not
 * at start-up: compiling it is about a tenth of a start.
 */
import path from 'node:path';
import pug from 'pug';
import type { ResultJson } from '../tasks/types.js';
import { iconSvg } from './icons.js';
import { resultView } from './view-builders.js';

export function resultFragmentRenderer(viewsFolder: string, base: string, now: () => number): (result: ResultJson) => string {
  let template: pug.compileTemplate | undefined;
  return (result) => {
    template ??= pug.compileFile(path.join(viewsFolder, 'result-fragment.pug'), { basedir: viewsFolder });
    // No log lines: the live page streamed them already, and the fragment leaves them out.
    return template({ view: resultView(base, result, [], now()), icon: iconSvg, base, streamed: true });
  };
}
