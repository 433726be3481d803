import { expect } from 'chai';
import { PluginLoadError } from '../../core/plugins/plugin-load-error.js';
import { defaultExportOf, definePlugin, pluginShapeOf } from '../../core/plugins/plugin-shape.js';

const FILE = 'plugins/x.ts';
const run = (): string => 'ok';

function shapeError(exported: unknown): PluginLoadError {
  try {
    pluginShapeOf(exported, FILE, 'x');
  } catch (error) {
    expect(error).to.be.instanceOf(PluginLoadError);
    return error as PluginLoadError;
  }
  throw new Error('expected pluginShapeOf to throw');
}

describe('plugins/plugin-shape', () => {
  it('reads a single task, named after the file', () => {
    const task = { key: 'hello', run };
    expect(pluginShapeOf(task, FILE, 'x')).to.deep.equal({ name: 'x', tasks: [task] });
  });

  it('reads an array of tasks', () => {
    const tasks = [{ key: 'a', run }, { key: 'b', run }];
    expect(pluginShapeOf(tasks, FILE, 'x').tasks).to.deep.equal(tasks);
  });

  it('reads a plugin object with a name, tasks and setup', () => {
    const setup = (): void => undefined;
    const plugin = definePlugin({ name: 'greetings', tasks: [{ key: 'a', run }], setup });
    const shape = pluginShapeOf(plugin, FILE, 'x');
    expect(shape.name).to.equal('greetings');
    expect(shape.tasks).to.have.length(1);
    expect(shape.setup).to.equal(setup);
  });

  it('reads a plugin object with only setup', () => {
    const shape = pluginShapeOf({ setup: () => undefined }, FILE, 'x');
    expect(shape).to.include({ name: 'x' });
    expect(shape.tasks).to.deep.equal([]);
  });

  it('takes an object with a key but no run as a task, for normalizeTask to explain', () => {
    expect(pluginShapeOf({ key: 'half' }, FILE, 'x').tasks).to.deep.equal([{ key: 'half' }]);
  });

  it('says what was expected and what arrived, starting with the file', () => {
    expect(shapeError(42).message).to.equal(`${FILE}: expected a default export of a task, an array of tasks or { name, tasks, setup }, got a number (42)`);
    expect(shapeError('hi').message).to.contain('got a string ("hi")');
    expect(shapeError(null).message).to.contain('got null');
    expect(shapeError(undefined).message).to.contain('got undefined');
    expect(shapeError(function main() {}).message).to.contain('got a function (main)');
    expect(shapeError({ title: 'no key' }).message).to.contain('got an object with keys title');
    expect(shapeError({}).message).to.contain('got an empty object');
    expect(shapeError(42).file).to.equal(FILE);
  });

  it('refuses array elements and plugin parts of the wrong kind', () => {
    expect(shapeError([{ key: 'a', run }, 3]).message).to.contain('element 1 of the default export: expected a task').and.contain('got a number (3)');
    expect(shapeError({ name: 'p', tasks: { key: 'a', run } }).message).to.contain('plugin tasks: expected an array of tasks, got an object');
    expect(shapeError({ name: 'p', tasks: ['a'] }).message).to.contain('plugin tasks[0]: expected a task');
    expect(shapeError({ name: 'p', setup: 'go' }).message).to.contain('plugin setup: expected a function, got a string');
    expect(shapeError({ name: '', tasks: [] }).message).to.contain('plugin name: expected a non-empty string, got a string ("")');
  });

  it('reports a module without a default export, listing its named exports', () => {
    expect(() => defaultExportOf({ helper: 1, other: 2 }, FILE)).to.throw(PluginLoadError, `${FILE}: expected a default export of a task, an array of tasks or { name, tasks, setup }, got no default export (named exports: helper, other)`);
    expect(defaultExportOf({ default: 0 }, FILE)).to.equal(0);
  });
});
