import { expect } from 'chai';
import { LineSplitter } from '../../core/tasks/exec-lines.js';

function split(chunks: (string | Buffer)[], max = 100): { lines: string[]; rewrites: string[] } {
  const lines: string[] = [];
  const rewrites: string[] = [];
  const splitter = new LineSplitter(max, { line: (l) => lines.push(l), rewrite: (r) => rewrites.push(r) });
  for (const chunk of chunks) splitter.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  splitter.end();
  return { lines, rewrites };
}

describe('LineSplitter: command output as log lines', () => {
  it('splits on LF and CRLF, keeps empty lines, and ends a last line without a newline', () => {
    expect(split(['a\nb\r\n\nc']).lines).to.deep.equal(['a', 'b', '', 'c']);
  });

  it('joins a line written in several chunks, and a CRLF split between two chunks', () => {
    expect(split(['hel', 'lo\r', '\nwor', 'ld\n']).lines).to.deep.equal(['hello', 'world']);
  });

  it('keeps only the last state of a line rewritten with \\r, and reports the states before it', () => {
    const { lines, rewrites } = split(['10%\r', '50%\r', '100%\ndone\n']);
    expect(lines).to.deep.equal(['100%', 'done']);
    expect(rewrites).to.deep.equal(['10%', '50%']);
  });

  it('logs the last state of a \\r line the command never ended with a newline', () => {
    expect(split(['1/3\r2/3\r3/3\r']).lines).to.deep.equal(['3/3']);
  });

  it('decodes a UTF-8 character split across chunks', () => {
    const bytes = Buffer.from('é€😀\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4, 6), bytes.subarray(6)]).lines).to.deep.equal(['é€😀']);
  });

  it('turns invalid UTF-8 and control characters into U+FFFD, keeping tabs and ANSI escapes', () => {
    const { lines } = split([Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x07, 0x09, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x0a])]);
    expect(lines).to.deep.equal(['\uFFFD\uFFFD\uFFFDA\uFFFD\t\u001b[31m']);
  });

  it('cuts a long line while it arrives, to maxLineLength characters with the marker of a cut log line', () => {
    const { lines } = split(['x'.repeat(60), 'y'.repeat(60), 'z'.repeat(30), '\nnext\n'], 100);
    const marker = ' … [78 characters truncated]';
    expect(lines).to.deep.equal([`${'x'.repeat(60)}${'y'.repeat(100 - 60 - marker.length)}${marker}`, 'next']);
    expect(lines[0]).to.have.length(100);
  });

  it('does not end a cut line on half a surrogate pair', () => {
    // 62 characters into 61: 33 would be kept, but the 33rd is the first half of an emoji.
    const { lines } = split([`${'a'.repeat(32)}${'😀'.repeat(15)}\n`], 61);
    expect(lines).to.deep.equal([`${'a'.repeat(32)} … [30 characters truncated]`]);
  });
});
