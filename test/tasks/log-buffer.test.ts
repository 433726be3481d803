import { expect } from 'chai';
import { LogBuffer, droppedMarker } from '../../core/tasks/log-buffer.js';

/** What the buffer should give back: the first ceil(max/2) and last floor(max/2) lines, a marker between. */
function expected(lines: readonly string[], max: number): string[] {
  const head = Math.ceil(max / 2);
  const tail = Math.floor(max / 2);
  if (lines.length <= head + tail) return [...lines];
  return [...lines.slice(0, head), droppedMarker(lines.length - head - tail), ...lines.slice(lines.length - tail)];
}

function fill(max: number, lines: readonly string[]): LogBuffer {
  const buffer = new LogBuffer(max);
  for (const line of lines) buffer.push(line);
  return buffer;
}

describe('LogBuffer', () => {
  it('keeps every line while the log fits, with no marker', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`);
    const buffer = fill(10, lines);
    expect(buffer.logs()).to.deep.equal(lines);
    expect(buffer.dropped).to.equal(0);
    expect(buffer.count).to.equal(10);
  });

  it('keeps the first and last halves of a longer log, with the marker counting the lines dropped', () => {
    const lines = Array.from({ length: 100_003 }, (_, i) => `line ${i + 1} ${'.'.repeat(i % 40)}`);
    const buffer = fill(1001, lines);
    expect(buffer.logs()).to.deep.equal(expected(lines, 1001));
    expect(buffer.dropped).to.equal(100_003 - 1001);
  });

  it('gives back text as it was pushed: empty lines, multi-byte characters, lines longer than a buffer of the ring', () => {
    const long = 'é'.repeat(70_000);
    const lines = ['', '日本語のログ', '😀 emoji', long, '', 'x'.repeat(200_000), 'after', '\uFFFD', 'ascii'];
    for (let rounds = 1; rounds <= 3; rounds++) {
      const all = Array.from({ length: rounds }, () => lines).flat();
      const buffer = fill(6, all);
      expect(buffer.logs()).to.deep.equal(expected(all, 6));
    }
  });

  it('keeps a tail of one line when the limit is two', () => {
    const buffer = fill(2, ['a', 'b', 'c', 'd']);
    expect(buffer.logs()).to.deep.equal(['a', droppedMarker(2), 'd']);
  });
});
