// A task with one field of every type; it returns the arguments as it received them (coerced).
import { defineTask } from '../core/index.js';

export default defineTask({
  key: 'all-fields',
  title: 'Every Field Type',
  category: 'examples',
  icon: 'list-checks',
  description: 'Shows how each field type is rendered, coerced and validated.',
  tags: ['demo'],
  fields: [
    { key: 'name', title: 'Name', type: 'string', required: true, default: 'world', description: 'Any text' },
    { key: 'count', type: 'int', default: 3, description: 'A whole number' },
    { key: 'ratio', type: 'float', default: 0.5, description: 'A number with decimals' },
    { key: 'verbose', type: 'bool', default: false, description: 'A checkbox' },
    { key: 'colors', title: 'Colours', type: '[]string', choices: ['red', 'green', 'blue'], default: ['red'], description: 'Several choices' },
    { key: 'labels', type: '[]string', description: 'Free list, one per line' },
    { key: 'when', type: 'time', description: 'A date and time (UTC)' },
    { key: 'level', type: 'string', choices: ['low', 'high'], default: 'low', description: 'One choice' },
  ],
  run({ args, log, result }) {
    log(`hello ${String(args.name)}`);
    result.addTags('demo', args.verbose ? 'verbose' : 'quiet');
    return args;
  },
});
