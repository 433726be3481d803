/**
 * `defineTask` infers the type of `ctx.args` from the field declarations: an `int` field gives a
 * `number`, `[]string` a `string[]`, a field with choices the union of them, a `time` a `Date`.
 * A field that is neither required nor defaulted may be absent (`undefined`) when it is a string or a
 * number; bool, list and time fields are always present (false, [] and null when not given).
 */
import type { FieldDesc, FieldType, FieldValueTypes, TaskArgs, TaskDefinition } from './types.js';

type ChoiceValue<C extends string, T extends FieldType> = T extends 'int' | 'float' ? (C extends `${infer N extends number}` ? N : number) : C;

type TypeOf<F> = F extends { type: infer T extends FieldType } ? T : 'string';

type PresentValue<F> = F extends { choices: readonly (infer C extends string)[] }
  ? TypeOf<F> extends '[]string'
    ? ChoiceValue<C, '[]string'>[]
    : ChoiceValue<C, TypeOf<F>>
  : FieldValueTypes[TypeOf<F>];

type AlwaysPresent<F> = F extends { required: true } ? true : F extends { default: {} } ? true : TypeOf<F> extends 'bool' | '[]string' | 'time' ? true : false;

/** The value a task receives for one field declaration. */
export type FieldValue<F> = AlwaysPresent<F> extends true ? PresentValue<F> : PresentValue<F> | undefined;

/** The arguments a task receives for its field declarations; undeclared query keys pass through as unknown. */
export type ArgsOf<Fields extends readonly FieldDesc[]> = { [F in Fields[number] as F['key']]: FieldValue<F> } & TaskArgs;

export type TypedTaskDefinition<Fields extends readonly FieldDesc[]> = Omit<TaskDefinition<ArgsOf<Fields>>, 'fields'> & { fields?: Fields };

/**
 * Types a task definition and infers its arguments from its fields; it returns its argument unchanged.
 *
 * @example
 * export default defineTask({
 *   key: 'backup',
 *   fields: [{ key: 'format', choices: ['sql', 'tar'], default: 'sql' }, { key: 'keep', type: 'int', default: 7 }],
 *   run: ({ args }) => `backup.${args.format}`,   // args.format: 'sql' | 'tar'; args.keep: number
 * });
 */
export function defineTask<const Fields extends readonly FieldDesc[] = []>(definition: TypedTaskDefinition<Fields>): TaskDefinition<ArgsOf<Fields>> {
  return definition as TaskDefinition<ArgsOf<Fields>>;
}
