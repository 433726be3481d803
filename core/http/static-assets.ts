/** Serves the few files under views/static (CSS, the browser script), read once at start-up. */
import fs from 'node:fs';
import path from 'node:path';
import type { Context, Next } from 'koa';

const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };

export function staticAssets(folder: string, prefix: string) {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of fs.existsSync(folder) ? fs.readdirSync(folder) : []) {
    const type = TYPES[path.extname(name)];
    if (type) files.set(`${prefix}/${name}`, { type, body: fs.readFileSync(path.join(folder, name)) });
  }
  return async (ctx: Context, next: Next): Promise<void> => {
    const file = files.get(ctx.path);
    if (!file || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = file.type;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = file.body;
  };
}
