/**
 * The load generator for P4, in a process of its own so it never competes with the server for the
 * server's event loop: runs autocannon (programmatic API) with the options in argv[2] and prints one
 * JSON line with the figures.
 */
import autocannon from 'autocannon';

interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const result = await autocannon({ url: options.url, connections: options.connections, duration: options.durationSeconds });
process.stdout.write(
  `${JSON.stringify({
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  })}\n`,
);
