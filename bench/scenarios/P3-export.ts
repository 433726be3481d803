/**
 * P3-export: the CSV export of the whole generated history over HTTP (`/admin/run?format=csv`), from a
 * taskdeck server in its own process so that its peak RSS is its own. Rows/s counts CSV records
 * received by a streaming client (nothing buffered on the client side).
 */
import http from 'node:http';
import type { BenchContext } from '../lib/bench-context.js';
import { sharedHistory } from '../lib/shared-history.js';
import { atLeast, below, result, type ScenarioResult } from '../lib/scenario-result.js';
import { perSecond } from '../lib/stats.js';
import { spawnServer } from '../lib/spawn-server.js';

/** Downloads `url`, counting lines and bytes as they stream in. */
function download(url: string): Promise<{ lines: number; bytes: number; ms: number; firstByteMs: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    http
      .get(url, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`GET ${url} answered ${response.statusCode}`));
          return;
        }
        let lines = 0;
        let bytes = 0;
        let firstByteMs = -1;
        response.on('data', (chunk: Buffer) => {
          if (firstByteMs < 0) firstByteMs = performance.now() - start;
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        });
        response.on('end', () => resolve({ lines, bytes, ms: performance.now() - start, firstByteMs }));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

export default async function p3Export(ctx: BenchContext): Promise<ScenarioResult[]> {
  const history = await sharedHistory(ctx);
  const dir = ctx.tempDir('server');
  let peakRss = 0;
  let bytes = 0;
  const m = await ctx.measure('export', async () => {
    // A fresh process each round: its peak RSS belongs to this export alone.
    const server = await spawnServer({ db: history.file, plugins: dir }, ctx.childExecArgv);
    try {
      const got = await download(`${server.url}/admin/run?format=csv`);
      const records = got.lines - 1;
      if (records !== history.runs) throw new Error(`the CSV export held ${records} records, expected ${history.runs}`);
      const memory = server.memory();
      peakRss = Math.max(peakRss, memory.peakRss);
      bytes = got.bytes;
      return { rowsPerSecond: perSecond(records, got.ms), peakRssMB: memory.peakRss / 1e6, firstByteMs: got.firstByteMs };
    } finally {
      await server.stop();
    }
  });
  ctx.record('csvBytes', bytes);
  const size = `${history.runs.toLocaleString('en-US')} runs`;
  return [
    result({
      id: 'P3-export',
      scenario: `CSV export of ${size} over HTTP`,
      taskdeck: m.rowsPerSecond,
      unit: 'rows/s',
      goal: atLeast(100_000, 'rows/s'),
      notes: `${(bytes / 1048576).toFixed(1)} MiB of CSV; first byte after ${m.firstByteMs.toFixed(0)} ms`,
    }),
    result({
      id: 'P3-export-rss',
      scenario: `peak RSS of the server process during the export (${size})`,
      taskdeck: m.peakRssMB,
      unit: 'MB',
      goal: below(200, 'MB'),
      notes: `VmHWM of the server process (start-up included); max over rounds ${(peakRss / 1e6).toFixed(0)} MB`,
    }),
  ];
}
