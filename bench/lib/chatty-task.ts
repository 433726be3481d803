/**
 * A task that logs many lines quickly, in chunks, yielding to the event loop between chunks as a real
 * task doing I/O would. Used by P2 (persistence) and P5 (live streaming).
 */
import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { Kernel } from '../../core/kernel.js';

export const CHATTY_TASK = 'chatty';
/** Lines logged before yielding. */
export const CHUNK = 1000;

export const lineText = (i: number): string => `line ${i} of a chatty task: some words to make it a realistic length`;

/**
 * Registers `chatty` (or `key`): `args.lines` lines. When `gate` is given the task waits for it first (so that
 * watchers can attach before the first line).
 */
export function registerChatty(kernel: Kernel, gate?: () => Promise<void>, key = CHATTY_TASK): void {
  kernel.registerTask({
    key,
    title: 'Chatty',
    async run({ log, args }) {
      if (gate) await gate();
      const n = Number(args.lines);
      for (let i = 0; i < n; i++) {
        log(lineText(i));
        if (i % CHUNK === CHUNK - 1) await yieldTurn();
      }
    },
  });
}
