/** The generated history shared by P3 and P3-export: built once per bench run, by whichever asks first. */
import type { BenchContext } from './bench-context.js';
import { generateHistory, type HistoryFixture } from './history-fixture.js';
import { bySize } from './scenario-result.js';

export function sharedHistory(ctx: BenchContext): Promise<HistoryFixture> {
  const runs = bySize(ctx.size, { tiny: 10_000, small: 100_000, full: 1_000_000 });
  return ctx.shared('history', async () => {
    ctx.log(`generating a history of ${runs.toLocaleString('en-US')} runs and ${(runs * 10).toLocaleString('en-US')} log lines`);
    const fixture = await generateHistory(ctx.tempDir('history'), runs, 10);
    ctx.log(`generated in ${(fixture.generateMs / 1000).toFixed(1)} s (${(fixture.bytes / 1048576).toFixed(0)} MiB)`);
    return fixture;
  });
}
