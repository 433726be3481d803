/** `taskdeck run key a=1 b=x b=y`: arguments as a query string would give them (repeated keys -> lists). */
import { TaskdeckError } from '../errors.js';
import type { RawArgs } from '../tasks/fields.js';

export function parseKeyValues(pairs: readonly string[]): RawArgs {
  const out: RawArgs = Object.create(null) as RawArgs;
  for (const pair of pairs) {
    const cut = pair.indexOf('=');
    if (cut <= 0) throw new TaskdeckError('ERR_INVALID_ARG', `argument "${pair.slice(0, 80)}": expected key=value`, { status: 400 });
    const key = pair.slice(0, cut);
    const value = pair.slice(cut + 1);
    const existing = out[key];
    out[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}
