import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { expect } from 'chai';
import { outputJson, textFrames } from '../../core/live/frames.js';
import * as msg from '../../core/live/messages.js';

/** The frame parser of `ws` clients (not in its type definitions). */
const Receiver = (createRequire(import.meta.url)('ws') as { Receiver: new (options: { isServer: boolean }) => Writable }).Receiver;

/** What a `ws` client reads from these bytes, fed in pieces of `step` bytes. */
function received(bytes: Buffer, step: number): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => messages.push(`${isBinary ? 'binary' : 'text'}:${data.toString()}`));
  receiver.on('error', (error: Error) => messages.push(`error:${error.message}`));
  for (let at = 0; at < bytes.length; at += step) receiver.write(bytes.subarray(at, at + step));
  return messages;
}

describe('WebSocket frames built by the live hub', () => {
  it('frames text of every length class (7-bit, 16-bit and 64-bit lengths) as a ws client reads it', () => {
    const payloads = [0, 1, 125, 126, 65_535, 65_536, 70_000].map((n, i) => 'é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2) + String(i));
    const { bytes, starts } = textFrames(payloads);
    expect(received(bytes, 7)).to.deep.equal(payloads.map((p) => `text:${p}`));
    expect(received(bytes, bytes.length)).to.deep.equal(payloads.map((p) => `text:${p}`));
    // Each frame can be written on its own from its start.
    expect(received(bytes.subarray(starts[3]), 1000)).to.deep.equal(payloads.slice(3).map((p) => `text:${p}`));
  });

  it('writes an output envelope exactly as JSON.stringify of the message would', () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [text, stream] of [['plain', 'log'], ['<b> & "q" \'s\'', 'stderr'], ['\u001b[31mred\u001b[0m', 'system'], ['tab\tnew\\line \u2028', 'log']] as const) {
      const line = { seq: 7, at: 0, stream, msg: text };
      const parsed = JSON.parse(outputJson(id, line)) as msg.Envelope & { param: { html: string } };
      expect(outputJson(id, line)).to.equal(JSON.stringify(msg.output(id, { seq: 7, msg: text, html: parsed.param.html, stream })));
    }
    const escaped = JSON.parse(outputJson(id, { seq: 1, at: 0, stream: 'log', msg: '<b> & "q" \'s\'' })) as { param: { html: string } };
    expect(escaped.param.html).to.equal('&lt;b&gt; &amp; &quot;q&quot; &#x27;s&#x27;');
  });
});
