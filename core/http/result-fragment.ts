/** The Result block as an HTML fragment, for the `complete` WebSocket message (compiled once). */
import path from 'node:path';
import pug from 'pug';
import type { ResultJson } from '../tasks/types.js';
import { iconSvg } from './icons.js';
import { resultView } from './view-builders.js';

export function resultFragmentRenderer(viewsFolder: string, base: string, now: () => number): (result: ResultJson) => string {
  const template = pug.compileFile(path.join(viewsFolder, 'result-fragment.pug'), { basedir: viewsFolder });
  return (result) => {
    const logs = result.logs.map((text, index) => ({ seq: index + 1, at: 0, stream: 'log' as const, msg: text }));
    return template({ view: resultView(base, result, logs, now()), icon: iconSvg, base, streamed: true });
  };
}
