/** Boots the example host app (examples/host-app/app.mjs) in this process, on port 0 with a temp database. */
import type http from 'node:http';
import path from 'node:path';
import type Koa from 'koa';
import type { TaskdeckKernel } from '../../core/index.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

export interface HostApp {
  app: Koa;
  kernel: TaskdeckKernel;
  server: http.Server;
  listen(port?: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface BootedHost extends HostApp {
  url: string;
  cleanup(): Promise<void>;
}

// A computed specifier: the example is plain JavaScript, typed here by HostApp.
const APP_MODULE = new URL('../../examples/host-app/app.mjs', import.meta.url).href;

export async function bootHostApp(options: { admins?: string[] } = {}): Promise<BootedHost> {
  const dir = makeTempDir('taskdeck-host-');
  const { createHostApp } = (await import(APP_MODULE)) as { createHostApp(o: object): Promise<HostApp> };
  const host = await createHostApp({ db: path.join(dir, 'host.db'), logLevel: 'silent', ...options });
  const url = await host.listen(0, '127.0.0.1');
  return Object.assign(host, {
    url,
    async cleanup() {
      await host.stop();
      removeDir(dir);
    },
  });
}

export const ALICE = { Cookie: 'host_user=alice' };
