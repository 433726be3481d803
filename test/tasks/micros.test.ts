import { expect } from 'chai';
import { microsToMillis } from '../../core/tasks/micros.js';

describe('microsToMillis', () => {
  describe('matches the seed for every test vector', () => {
    const vectors: Array<[number, string]> = [
      [0, '0ms'],
      [1, '0.001ms'],
      [1000, '1ms'],
      [19000, '19ms'],
      [19999, '19.999ms'],
      [20000, '20ms'],
      [20500, '20ms'],
      [154, '0.154ms'],
      [1500, '1.500ms'],
    ];
    for (const [micros, text] of vectors) {
      it(`prints ${micros} µs as "${text}"`, () => {
        expect(microsToMillis(micros)).to.equal(text);
      });
    }
  });

  it('truncates whole milliseconds from 20 ms up, even for long runs', () => {
    expect(microsToMillis(20999)).to.equal('20ms');
    expect(microsToMillis(3_600_000_999)).to.equal('3600000ms');
  });

  it('keeps three decimals just under 20 ms', () => {
    expect(microsToMillis(19001)).to.equal('19.001ms');
    expect(microsToMillis(10)).to.equal('0.010ms');
  });

  it('truncates a fractional input to whole microseconds first', () => {
    expect(microsToMillis(1500.9)).to.equal('1.500ms');
    expect(microsToMillis(999.99)).to.equal('0.999ms');
  });

  it('refuses a number that is not finite, rather than printing "NaNms"', () => {
    expect(() => microsToMillis(Number.NaN)).to.throw(TypeError, /finite/);
    expect(() => microsToMillis(Number.POSITIVE_INFINITY)).to.throw(TypeError, /finite/);
  });
});
