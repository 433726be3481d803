// Runs the example host app: `node examples/host-app/server.mjs` (PORT, HOST and DB in the environment).
import { createHostApp } from './app.mjs';

const host = await createHostApp({ db: process.env.DB || undefined });
const url = await host.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
process.stdout.write(`host app listening on ${url}: sign in with ${url}/login?user=alice, then open ${url}/ops/admin/task\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void host.stop().then(() => process.exit(0));
  });
}
