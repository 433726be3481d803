// Compile-time only (tsc, never mocha): what a TypeScript host gets from `import ... from 'taskdeck'`
// through the package's `types` entry.
import http from 'node:http';
import Koa, { type Middleware } from 'koa';
import { createKernel, defineTask, Kernel, type AuthorizeHook, type CreateKernelOptions, type TaskdeckKernel } from 'taskdeck';

const authorize: AuthorizeHook = (ctx) => ctx.state.user === 'admin';
const options: CreateKernelOptions = { config: { db: ':memory:', token: 'x' }, authorize, authorizeUpgrade: (req) => req.headers.cookie === 'a', trustProxy: true };

export async function host(): Promise<void> {
  const kernel: TaskdeckKernel = await createKernel(options).start();
  const asKernel: Kernel = kernel;
  void asKernel;
  const middleware: Middleware = kernel.adminMiddleware({ prefix: '/ops' });
  const app = new Koa();
  app.use(middleware);
  const server = http.createServer(app.callback());
  const detach: () => void = kernel.attachWebSocket(server, { prefix: '/ops' });
  detach();
  kernel.registerTask(defineTask({ key: 'typed', fields: [{ key: 'n', type: 'int', default: 1 }], run: ({ args }) => args.n + 1 }));
  await kernel.stop();
  // @ts-expect-error the prefix is a string
  kernel.adminMiddleware({ prefix: 1 });
  // @ts-expect-error a hook answers a boolean
  createKernel({ authorize: () => 'yes' });
}
