/** CPU profiles of in-process scenarios (`--profile DIR`), through the inspector, one file per scenario. */
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';

export interface Profiling {
  stop(): Promise<string>;
}

export async function startProfile(dir: string, name: string): Promise<Profiling> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${name}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
}
