import { expect } from 'chai';
import { settleWithin } from '../../core/plugins/settle-within.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('plugins/settle-within', () => {
  it('passes through a value or a rejection that arrives in time', async () => {
    const signal = new AbortController().signal;
    expect(await settleWithin(Promise.resolve(7), 100, signal, () => new Error('late'))).to.equal(7);
    const boom = new Error('boom');
    expect(await rejection(settleWithin(Promise.reject(boom), 100, signal, () => new Error('late')))).to.equal(boom);
  });

  it('rejects with the timeout error when the promise never settles', async () => {
    const error = await rejection(settleWithin(new Promise(() => {}), 20, new AbortController().signal, () => new Error('did not settle')));
    expect(error).to.be.instanceOf(Error).with.property('message', 'did not settle');
  });

  it('rejects with the abort reason as soon as the signal aborts, and at once when already aborted', async () => {
    const controller = new AbortController();
    const waiting = settleWithin(new Promise(() => {}), 60_000, controller.signal, () => new Error('late'));
    controller.abort(new Error('stopped'));
    expect(await rejection(waiting)).to.have.property('message', 'stopped');
    expect(await rejection(settleWithin(Promise.resolve(1), 100, controller.signal, () => new Error('late')))).to.have.property('message', 'stopped');
  });
});
