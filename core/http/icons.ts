/** Inline SVG icons from lucide-static, read once per name. Unknown names fall back to `star`. */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ICON_NAME = /^[a-z0-9-]{1,64}$/;
const folder = path.join(path.dirname(createRequire(import.meta.url).resolve('lucide-static/package.json')), 'icons');
const cache = new Map<string, string | null>();

function load(name: string): string | null {
  if (!ICON_NAME.test(name)) return null;
  if (!cache.has(name)) {
    let svg: string | null = null;
    try {
      svg = fs.readFileSync(path.join(folder, `${name}.svg`), 'utf8').replace(/<!--[\s\S]*?-->/g, '').trim();
    } catch {
      svg = null;
    }
    cache.set(name, svg);
  }
  return cache.get(name) ?? null;
}

/** Trusted markup: the SVG text comes from the package, never from a request or a task. */
export function iconSvg(name: string, size = 16): string {
  const svg = load(name) ?? load('star') ?? '';
  const px = Math.max(8, Math.min(64, Math.round(size)));
  return svg
    .replace(/\swidth="\d+"/, ` width="${px}"`)
    .replace(/\sheight="\d+"/, ` height="${px}"`)
    .replace('<svg', '<svg aria-hidden="true" focusable="false" class="icon"');
}
