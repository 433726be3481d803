// A CPU-heavy task that runs isolated: counting primes takes seconds of pure computation, done in a
// worker thread so the kernel keeps serving pages and streaming other runs meanwhile.
// A type-only import: the worker imports this file again, and a value import of core/index.js would
// load the whole kernel there (about half a second) just for defineTask.
import type { TaskContext, TaskDefinition } from '../core/index.js';

/** Numbers checked between two yields: a yield lets the worker see its signal (cancel, timeout). */
const CHUNK = 50_000;

export async function countPrimes({ args, result, signal, log }: Pick<TaskContext, 'args' | 'result' | 'signal' | 'log'>): Promise<{ limit: number; primes: number }> {
  const limit = Number(args.limit);
  log(`counting the primes up to ${limit}`);
  let primes = 0;
  for (let start = 2; start <= limit; start += CHUNK) {
    const end = Math.min(limit, start + CHUNK - 1);
    for (let n = start; n <= end; n++) if (isPrime(n)) primes++;
    result.progress(end, limit, `${primes} primes so far`);
    await new Promise((resolve) => setImmediate(resolve));
    signal.throwIfAborted();
  }
  log(`found ${primes} primes`);
  return { limit, primes };
}

function isPrime(n: number): boolean {
  if (n < 4) return n > 1;
  if (n % 2 === 0 || n % 3 === 0) return false;
  for (let d = 5; d * d <= n; d += 6) if (n % d === 0 || n % (d + 2) === 0) return false;
  return true;
}

export default {
  key: 'count-primes',
  title: 'Count Primes (isolated)',
  category: 'examples',
  icon: 'cpu',
  description: 'Counts the primes up to a limit in a worker thread, reporting progress.',
  tags: ['cpu', 'isolated'],
  expensive: true,
  fields: [{ key: 'limit', type: 'int', default: 20_000_000, description: 'Count the primes up to this number' }],
  isolate: 'worker',
  workerGraceMs: 2000,
  run: countPrimes,
} satisfies TaskDefinition;
