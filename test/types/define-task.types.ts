// A type test: `npx tsc --noEmit` fails if an inferred type is wrong or an expected error is missing.
import { defineTask } from '../../core/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T) => undefined;

export const typed = defineTask({
  key: 'typed',
  fields: [
    { key: 'name', required: true },
    { key: 'nickname' },
    { key: 'count', type: 'int', default: 3 },
    { key: 'ratio', type: 'float' },
    { key: 'verbose', type: 'bool' },
    { key: 'colors', type: '[]string', choices: ['red', 'green'] },
    { key: 'labels', type: '[]string' },
    { key: 'when', type: 'time' },
    { key: 'format', choices: ['sql', 'tar'], default: 'sql' },
    { key: 'level', type: 'int', choices: ['1', '2', '3'], default: '1' },
  ],
  run: ({ args }) => {
    expectType<Equal<typeof args.name, string>>();
    expectType<Equal<typeof args.nickname, string | undefined>>();
    expectType<Equal<typeof args.count, number>>();
    expectType<Equal<typeof args.ratio, number | undefined>>();
    expectType<Equal<typeof args.verbose, boolean>>();
    expectType<Equal<typeof args.colors, ('red' | 'green')[]>>();
    expectType<Equal<typeof args.labels, string[]>>();
    expectType<Equal<typeof args.when, Date | null>>();
    expectType<Equal<typeof args.format, 'sql' | 'tar'>>();
    expectType<Equal<typeof args.level, 1 | 2 | 3>>();
    // Undeclared query keys pass through, untyped.
    expectType<Equal<(typeof args)['extra'], unknown>>();
    // @ts-expect-error an int field is a number, not a string
    args.count.toUpperCase();
    // @ts-expect-error "zip" is not one of the choices
    const zip: typeof args.format = 'zip';
    return { zip, file: `backup.${args.format}` };
  },
});

// @ts-expect-error a field type outside the vocabulary is refused
defineTask({ key: 'bad', fields: [{ key: 'n', type: 'number' }], run: () => undefined });

// @ts-expect-error run is required
defineTask({ key: 'no-run' });
