/** Compile-time checks (run by `npm run typecheck`) on what plugin authors write; the runtime part is trivial. */
import { expect } from 'chai';
import { definePlugin, type PluginHost } from '../../core/plugins/plugin-shape.js';
import type { TaskDefinition } from '../../core/tasks/types.js';

type Greeting = { name: string };
type Shout = { text: string; times?: number };

describe('plugin typing', () => {
  it('accepts inline tasks (args as TaskArgs) next to tasks typed with their own args', () => {
    const greet: TaskDefinition<Greeting> = { key: 'greet', run: ({ args }) => `hi ${args.name}` };
    const shout: TaskDefinition<Shout> = { key: 'shout', run: ({ args }) => args.text.toUpperCase() };
    const plugin = definePlugin({
      name: 'typed',
      tasks: [greet, shout, { key: 'inline', run: ({ args, log }) => log(String(args.anything)) }],
      setup(kernel: PluginHost) {
        kernel.registerTask(greet);
        kernel.registerTask({ key: 'later', run: ({ args }) => args.whatever });
        kernel.logger.debug('set up');
      },
    });
    expect(plugin.tasks?.map((t) => t.key)).to.deep.equal(['greet', 'shout', 'inline']);
  });

  it('still passes a plugin task where the kernel takes a TaskDefinition', () => {
    const plugin = definePlugin({ tasks: [{ key: 'a', run: () => 1 }] });
    const first = plugin.tasks?.[0];
    const asKernelTakesIt: TaskDefinition<Record<string, never>> | undefined = first;
    expect(asKernelTakesIt?.key).to.equal('a');
  });
});
