import { expect } from 'chai';
import { parseCompareQuery } from '../../core/http/compare/compare-query.js';
import { foldLogRows, formatElapsedDelta, plainLogText } from '../../core/http/compare/compare-view.js';
import { childPath, diffJson, jsonEqual } from '../../core/http/compare/json-diff.js';
import { diffLogLines, type LineChange } from '../../core/http/compare/line-diff.js';
import { findPreviousRun } from '../../core/http/compare/previous-run.js';
import { diffArgs, elapsedDelta } from '../../core/http/compare/run-comparison.js';
import { TaskdeckError } from '../../core/errors.js';
import type { RunFilter, StoredRun } from '../../core/tasks/run-repository.js';

/** Log lines numbered from 1. */
const log = (...texts: string[]) => texts.map((msg, i) => ({ seq: i + 1, msg }));
/** A line diff in a compact form: "  text" same, "- text" only in a, "+ text" only in b. */
const compact = (lines: LineChange[]) => lines.map((l) => `${l.change === 'same' ? ' ' : l.change === 'added' ? '+' : '-'} ${l.text}`);

describe('compare: structural JSON diff', () => {
  it('finds nothing between equal values, whatever the key order', () => {
    const a = { x: 1, y: { p: [1, 2, { q: 'r' }], s: null }, z: 'z' };
    const b = { z: 'z', y: { s: null, p: [1, 2, { q: 'r' }] }, x: 1 };
    const diff = diffJson(a, b);
    expect(diff.entries).to.deep.equal([]);
    expect(diff.total).to.equal(0);
    expect(diff.unchanged).to.equal(6);
    expect(jsonEqual(a, b)).to.equal(true);
  });

  it('names the changed paths of nested objects and arrays, and counts what did not change', () => {
    const a = { items: [{ name: 'one', n: 1 }, { name: 'two', n: 2 }, { name: 'three', n: 3 }], meta: { owner: 'ann', count: 3 } };
    const b = { items: [{ name: 'one', n: 1 }, { name: 'two', n: 2 }, { name: 'THREE', n: 3 }], meta: { owner: 'bob', count: 3 } };
    const diff = diffJson(a, b);
    expect(diff.entries).to.deep.equal([
      { path: 'items[2].name', change: 'changed', a: 'three', b: 'THREE' },
      { path: 'meta.owner', change: 'changed', a: 'ann', b: 'bob' },
    ]);
    expect(diff.unchanged).to.equal(6);
  });

  it('reports the extra items of a longer array as added, and of a shorter one as removed', () => {
    expect(diffJson([1, 2], [1, 2, 3, { four: 4 }]).entries).to.deep.equal([
      { path: '[2]', change: 'added', b: 3 },
      { path: '[3]', change: 'added', b: { four: 4 } },
    ]);
    expect(diffJson({ list: ['a', 'b', 'c'] }, { list: ['a'] }).entries).to.deep.equal([
      { path: 'list[1]', change: 'removed', a: 'b' },
      { path: 'list[2]', change: 'removed', a: 'c' },
    ]);
  });

  it('reports a change of type at its path, with both values whole, without looking inside', () => {
    expect(diffJson({ v: 1 }, { v: '1' }).entries).to.deep.equal([{ path: 'v', change: 'changed', a: 1, b: '1' }]);
    expect(diffJson({ v: [1] }, { v: { 0: 1 } }).entries).to.deep.equal([{ path: 'v', change: 'changed', a: [1], b: { 0: 1 } }]);
    expect(diffJson({ v: { k: 1 } }, { v: null }).entries).to.deep.equal([{ path: 'v', change: 'changed', a: { k: 1 }, b: null }]);
    expect(diffJson(true, 'true').entries).to.deep.equal([{ path: '', change: 'changed', a: true, b: 'true' }]);
    expect(diffJson(0, false).entries).to.have.length(1);
  });

  it('tells null from missing', () => {
    expect(diffJson({ x: null }, {}).entries).to.deep.equal([{ path: 'x', change: 'removed', a: null }]);
    expect(diffJson({}, { x: null }).entries).to.deep.equal([{ path: 'x', change: 'added', b: null }]);
    expect(diffJson({ x: null }, { x: null }).entries).to.deep.equal([]);
    // A run without data against one whose data is null.
    expect(diffJson(undefined, null).entries).to.deep.equal([{ path: '', change: 'added', b: null }]);
    expect(diffJson(undefined, undefined).entries).to.deep.equal([]);
    const removed = diffJson({ x: null }, {}).entries[0]!;
    expect(Object.hasOwn(removed, 'b'), 'a removed entry has no b at all').to.equal(false);
  });

  it('treats hostile keys as data: __proto__, constructor and odd characters', () => {
    const a = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "c", "a b": 1, "x.y": 2, "[0]": 3, "": 4}') as unknown;
    const b = JSON.parse('{"__proto__": {"polluted": 2}, "constructor": "C", "a b": 1, "x.y": 20, "[0]": 3, "": 5}') as unknown;
    const diff = diffJson(a, b);
    expect(diff.entries).to.deep.equal([
      { path: '__proto__.polluted', change: 'changed', a: 1, b: 2 },
      { path: 'constructor', change: 'changed', a: 'c', b: 'C' },
      { path: '["x.y"]', change: 'changed', a: 2, b: 20 },
      { path: '[""]', change: 'changed', a: 4, b: 5 },
    ]);
    // A __proto__ key on one side only is an added key, not the prototype of a plain object.
    expect(diffJson({}, JSON.parse('{"__proto__": {"x": 1}}')).entries).to.deep.equal([{ path: '__proto__', change: 'added', b: { x: 1 } }]);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(jsonEqual(JSON.parse('{"__proto__": 1}'), {})).to.equal(false);
  });

  it('builds paths that can be read back unambiguously', () => {
    expect(childPath('', 'items')).to.equal('items');
    expect(childPath('items', 2)).to.equal('items[2]');
    expect(childPath('items[2]', 'name')).to.equal('items[2].name');
    expect(childPath('', 'a b')).to.equal('["a b"]');
    expect(childPath('m', 'content-type')).to.equal('m["content-type"]');
    expect(childPath('m', '"quoted"')).to.equal('m["\\"quoted\\""]');
    expect(childPath('', 3)).to.equal('[3]');
  });

  it('reports an added or removed subtree once, at its root', () => {
    expect(diffJson({ a: 1 }, { a: 1, deep: { x: [1, 2, { y: 3 }] } }).entries).to.deep.equal([{ path: 'deep', change: 'added', b: { x: [1, 2, { y: 3 }] } }]);
  });

  it('lists at most maxEntries differences and still counts them all', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const b = a.map((n) => n + 1);
    const diff = diffJson(a, b, { maxEntries: 10 });
    expect(diff.entries).to.have.length(10);
    expect(diff.total).to.equal(50);
    expect(diff.truncated).to.equal(true);
    expect(diffJson(a, b).truncated).to.equal(false);
  });

  it('compares empty containers as unchanged leaves, and an empty object with an empty array as a change', () => {
    expect(diffJson({ a: {}, b: [] }, { a: {}, b: [] })).to.deep.include({ total: 0, unchanged: 2 });
    expect(diffJson({}, []).entries).to.deep.equal([{ path: '', change: 'changed', a: {}, b: [] }]);
  });
});

describe('compare: arguments', () => {
  it('marks each key same, changed, only in a or only in b, in a stable order', () => {
    const diff = diffArgs({ env: 'prod', n: 1, list: ['x', 'y'], gone: true }, { list: ['y', 'x'], n: 1, env: 'dev', fresh: null });
    expect(diff).to.deep.equal([
      { key: 'env', a: 'prod', b: 'dev', change: 'changed' },
      { key: 'n', a: 1, b: 1, change: 'same' },
      { key: 'list', a: ['x', 'y'], b: ['y', 'x'], change: 'changed' },
      { key: 'gone', a: true, change: 'only-a' },
      { key: 'fresh', b: null, change: 'only-b' },
    ]);
  });
});

describe('compare: elapsed time', () => {
  it('gives b against a: the difference and the ratio', () => {
    expect(elapsedDelta(100_000, 230_000)).to.deep.equal({ a: 100_000, b: 230_000, deltaUs: 130_000, ratio: 2.3 });
    expect(formatElapsedDelta(elapsedDelta(100_000, 230_000))).to.equal('+130ms, 2.3x');
    expect(formatElapsedDelta(elapsedDelta(90_000, 30_000))).to.equal('-60ms, 0.33x');
    expect(formatElapsedDelta(elapsedDelta(5000, 5000))).to.equal('+0ms, 1x');
    expect(formatElapsedDelta(elapsedDelta(1500, 3000))).to.equal('+1.500ms, 2x');
  });

  it('has no ratio when a took no time, and nothing while a run is running', () => {
    expect(elapsedDelta(0, 120)).to.deep.equal({ a: 0, b: 120, deltaUs: 120, ratio: null });
    expect(formatElapsedDelta(elapsedDelta(0, 120))).to.equal('+0.120ms');
    expect(elapsedDelta(null, 120)).to.deep.equal({ a: null, b: 120, deltaUs: null, ratio: null });
    expect(formatElapsedDelta(elapsedDelta(null, 120))).to.equal('');
  });
});

describe('compare: log line diff', () => {
  it('aligns the lines and numbers each side', () => {
    const { lines, aligned } = diffLogLines(log('start', 'step 1', 'step 2', 'done'), log('start', 'step 1', 'step 1b', 'step 2', 'done', 'extra'));
    expect(aligned).to.equal(true);
    expect(lines).to.deep.equal([
      { change: 'same', aSeq: 1, bSeq: 1, text: 'start' },
      { change: 'same', aSeq: 2, bSeq: 2, text: 'step 1' },
      { change: 'added', aSeq: null, bSeq: 3, text: 'step 1b' },
      { change: 'same', aSeq: 3, bSeq: 4, text: 'step 2' },
      { change: 'same', aSeq: 4, bSeq: 5, text: 'done' },
      { change: 'added', aSeq: null, bSeq: 6, text: 'extra' },
    ]);
  });

  it('shows a changed line as removed, then added', () => {
    expect(compact(diffLogLines(log('a', 'took 12ms', 'z'), log('a', 'took 15ms', 'z')).lines)).to.deep.equal(['  a', '- took 12ms', '+ took 15ms', '  z']);
  });

  it('keeps the stored line numbers (a log with dropped lines has gaps)', () => {
    const a = [{ seq: 1, msg: 'head' }, { seq: 900, msg: 'tail' }];
    const b = [{ seq: 1, msg: 'head' }, { seq: 2, msg: 'new' }, { seq: 3, msg: 'tail' }];
    expect(diffLogLines(a, b).lines).to.deep.equal([
      { change: 'same', aSeq: 1, bSeq: 1, text: 'head' },
      { change: 'added', aSeq: null, bSeq: 2, text: 'new' },
      { change: 'same', aSeq: 900, bSeq: 3, text: 'tail' },
    ]);
  });

  it('handles empty logs on either side', () => {
    expect(diffLogLines([], [])).to.deep.equal({ lines: [], aligned: true });
    expect(compact(diffLogLines(log('x', 'y'), []).lines)).to.deep.equal(['- x', '- y']);
    expect(compact(diffLogLines([], log('x')).lines)).to.deep.equal(['+ x']);
  });

  it('handles repeated lines and moved blocks', () => {
    // One of the equally short answers: the common tail is matched first.
    expect(compact(diffLogLines(log('x', 'x', 'y', 'x'), log('x', 'y', 'x', 'x')).lines)).to.deep.equal(['  x', '- x', '  y', '+ x', '  x']);
    const moved = diffLogLines(log('a', 'b', 'c', 'd'), log('c', 'd', 'a', 'b')).lines;
    expect(moved.filter((l) => l.change === 'same')).to.have.length(2);
    expect(moved.filter((l) => l.change !== 'same')).to.have.length(4);
  });

  it('compares lines exactly: case, spaces and markup all count', () => {
    expect(compact(diffLogLines(log('Hello', 'a b', '<b>'), log('hello', 'a  b', '<b>')).lines)).to.deep.equal(['- Hello', '- a b', '+ hello', '+ a  b', '  <b>']);
  });

  it('always accounts for every line of both sides, in each side\'s order', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 30; round++) {
      const a = log(...Array.from({ length: Math.floor(random() * 40) }, () => `l${Math.floor(random() * 8)}`));
      const b = log(...Array.from({ length: Math.floor(random() * 40) }, () => `l${Math.floor(random() * 8)}`));
      const { lines } = diffLogLines(a, b);
      expect(lines.filter((l) => l.aSeq !== null).map((l) => l.aSeq)).to.deep.equal(a.map((l) => l.seq));
      expect(lines.filter((l) => l.bSeq !== null).map((l) => l.bSeq)).to.deep.equal(b.map((l) => l.seq));
      for (const l of lines) if (l.change === 'same') expect(a[l.aSeq! - 1]!.msg).to.equal(b[l.bSeq! - 1]!.msg);
    }
  });

  it('is fast on two unrelated 5,000-line logs (lines only one side has are set aside)', () => {
    const a = log(...Array.from({ length: 5000 }, (_, i) => `a ${i}`));
    const b = log(...Array.from({ length: 5000 }, (_, i) => `b ${i}`));
    const started = performance.now();
    const { lines, aligned } = diffLogLines(a, b);
    expect(performance.now() - started).to.be.below(500);
    expect(aligned).to.equal(true);
    expect(lines).to.have.length(10_000);
  });

  it('gives up aligning past maxEditLength, still listing every line (common start and end kept)', () => {
    const middleA = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const middleB = [...middleA].reverse();
    const a = log('first', ...middleA, 'last');
    const b = log('first', ...middleB, 'last');
    const started = performance.now();
    const { lines, aligned } = diffLogLines(a, b, { maxEditLength: 20 });
    expect(performance.now() - started).to.be.below(500);
    expect(aligned).to.equal(false);
    expect(lines[0]).to.deep.equal({ change: 'same', aSeq: 1, bSeq: 1, text: 'first' });
    expect(lines.at(-1)).to.deep.equal({ change: 'same', aSeq: 202, bSeq: 202, text: 'last' });
    expect(lines.filter((l) => l.change === 'removed')).to.have.length(200);
    expect(lines.filter((l) => l.change === 'added')).to.have.length(200);
    expect(diffLogLines(a, b).aligned, 'with the default limit').to.equal(true);
  });

  it('aligns two 5,000-line logs with scattered changes quickly', () => {
    const a = log(...Array.from({ length: 5000 }, (_, i) => `line ${i % 50}`));
    const b = log(...a.map((l, i) => (i % 400 === 0 ? `changed ${i}` : l.msg)));
    const started = performance.now();
    const { lines } = diffLogLines(a, b);
    expect(performance.now() - started).to.be.below(500);
    expect(lines.filter((l) => l.change === 'added')).to.have.length(13);
    expect(lines.filter((l) => l.change === 'removed')).to.have.length(13);
  });
});

describe('compare: folding unchanged log lines for the page', () => {
  const same = (n: number, from = 1): LineChange[] => Array.from({ length: n }, (_, i) => ({ change: 'same', aSeq: from + i, bSeq: from + i, text: `s${from + i}` }));
  const added = (seq: number): LineChange => ({ change: 'added', aSeq: null, bSeq: seq, text: 'new' });
  const shape = (rows: ReturnType<typeof foldLogRows>) => rows.map((r) => (r.kind === 'fold' ? `fold ${r.count} (${r.aFrom}-${r.aTo})` : r.change === 'same' ? `${r.aSeq}` : '+'));

  it('keeps three lines of context around each change and folds the rest', () => {
    const lines = [...same(10), added(11), ...same(20, 11)];
    expect(shape(foldLogRows(lines))).to.deep.equal(['fold 7 (1-7)', '8', '9', '10', '+', '11', '12', '13', 'fold 17 (14-30)']);
  });

  it('does not fold a single line, and keeps the start of identical logs', () => {
    expect(shape(foldLogRows([added(1), ...same(7, 1), added(9)]))).to.deep.equal(['+', '1', '2', '3', '4', '5', '6', '7', '+']);
    expect(shape(foldLogRows(same(10)))).to.deep.equal(['1', '2', '3', 'fold 7 (4-10)']);
    expect(shape(foldLogRows(same(4)))).to.deep.equal(['1', '2', '3', '4']);
  });

  it('strips terminal escape codes from the text shown', () => {
    expect(plainLogText('\u001b[31mred\u001b[0m and \u001b]8;;http://x\u0007link\u001b]8;;\u0007')).to.equal('red and link');
  });
});

describe('compare: query', () => {
  const A = '0b6d3c2e-1f0a-4c8e-9a55-0d9b5e7a1c01';
  const B = '7f3e9a10-2b4c-4d6e-8f01-23456789abcd';
  const problems = (query: Record<string, string | string[]>): string[] => {
    try {
      parseCompareQuery(query);
    } catch (error) {
      expect(error).to.be.instanceOf(TaskdeckError);
      expect((error as TaskdeckError).status).to.equal(400);
      return ((error as TaskdeckError).details.invalid_params as { name: string }[]).map((p) => p.name);
    }
    throw new Error('expected a 400');
  };

  it('reads a and b, or a and previous=true', () => {
    expect(parseCompareQuery({ a: A, b: B })).to.deep.equal({ a: A, b: B, previous: false });
    expect(parseCompareQuery({ a: A, b: B, previous: 'false' })).to.deep.equal({ a: A, b: B, previous: false });
    expect(parseCompareQuery({ a: A, previous: 'true' })).to.deep.equal({ a: A, b: null, previous: true });
    expect(parseCompareQuery({ a: A, b: A })).to.deep.equal({ a: A, b: A, previous: false });
  });

  it('names every parameter that is missing or malformed', () => {
    expect(problems({})).to.deep.equal(['a', 'b']);
    expect(problems({ a: A })).to.deep.equal(['b']);
    expect(problems({ b: B })).to.deep.equal(['a']);
    expect(problems({ a: 'compare', b: B })).to.deep.equal(['a']);
    expect(problems({ a: A, b: B.toUpperCase() })).to.deep.equal(['b']);
    expect(problems({ a: A, b: '' })).to.deep.equal(['b']);
    expect(problems({ a: [A, B], b: B })).to.deep.equal(['a']);
    expect(problems({ a: A, previous: 'yes' })).to.deep.equal(['previous']);
    expect(problems({ a: A, b: B, previous: 'true' })).to.deep.equal(['b']);
  });
});

describe('compare: the previous run', () => {
  const run = (id: string, startedAt: number): StoredRun => ({ id, taskKey: 't', startedAt }) as StoredRun;

  it('asks for the task\'s runs started strictly before, and skips the run itself', async () => {
    const calls: [RunFilter, unknown][] = [];
    const lister = {
      listRuns: async (filter: RunFilter, options?: unknown) => {
        calls.push([filter, options]);
        return { runs: [run('same', 100), run('older', 50)], next: null };
      },
    };
    expect((await findPreviousRun(lister, run('same', 100)))?.id).to.equal('older');
    expect(calls).to.deep.equal([[{ task: ['t'], until: 100 }, { limit: 2 }]]);
  });

  it('finds none when there is no earlier run', async () => {
    const lister = { listRuns: async () => ({ runs: [], next: null }) };
    expect(await findPreviousRun(lister, run('x', 1))).to.equal(undefined);
  });
});
