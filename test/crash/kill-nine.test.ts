/**
 * Crash safety of the real server. Each round starts 100 runs over WebSocket, records every `output`
 * line the clients are sent, kills the server with SIGKILL at a random moment, restarts it on the same
 * files and checks: no run is left `running`, every line a client received is in the database with the
 * same seq and text, an outcome a client received is the stored one, and `PRAGMA integrity_check` is ok.
 * The restarted server is the next round's server. Knobs: TASKDECK_CRASH_ROUNDS (default 20),
 * TASKDECK_CRASH_RUNS (100 runs a round), TASKDECK_CRASH_SEED (to replay a failing sequence).
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { openSocket, type Envelope } from '../helpers/ws-client.js';
import { integrityCheck, openReadOnly } from '../fixtures/db-file.js';
import { startServer, type ServerProcess } from '../fixtures/server-process.js';

function knob(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(text)) throw new Error(`${name}: expected a whole number, got "${text}"`);
  return Number(text);
}

const ROUNDS = knob('TASKDECK_CRASH_ROUNDS', 20);
const RUNS = knob('TASKDECK_CRASH_RUNS', 100);
const SEED = knob('TASKDECK_CRASH_SEED', Math.floor(Math.random() * 1e9));

/** mulberry32: a small seeded generator, so a failing round can be replayed with its seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// 50-200 lines with tiny pauses; every 7th line carries colour codes and non-ASCII text.
const CHATTER = `export default {
  key: 'chatter',
  fields: [{ key: 'lines', type: 'int', default: 100 }, { key: 'delay', type: 'int', default: 1 }, { key: 'tag', default: '' }],
  async run({ args, log, signal }) {
    for (let i = 1; i <= args.lines && !signal.aborted; i++) {
      log(args.tag + ' line ' + i + (i % 7 === 0 ? ' \\u001b[32mgrün ✓\\u001b[0m' : ''));
      if (args.delay > 0) await new Promise((resolve) => setTimeout(resolve, args.delay));
      else if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return { lines: args.lines };
  },
};
`;

interface Client {
  tag: string;
  lines: number;
  /** Settles once the socket is closed (or could not open). */
  settled: Promise<void>;
  messages: Envelope[];
}

function launch(url: string, round: number, random: () => number): Client[] {
  const base = url.replace(/^http/, 'ws');
  return Array.from({ length: RUNS }, (_, i) => {
    const tag = `r${round}c${i}`;
    const lines = 50 + Math.floor(random() * 151);
    const delay = Math.floor(random() * 4);
    const client: Client = { tag, lines, messages: [], settled: Promise.resolve() };
    client.settled = openSocket(`${base}/admin/task/chatter/start?lines=${lines}&delay=${delay}&tag=${tag}`).then(
      async (socket) => {
        client.messages = socket.messages;
        await socket.closed;
      },
      () => undefined, // killed before the upgrade finished: nothing was promised to this client
    );
    return client;
  });
}

interface RoundReport {
  runs: number;
  completed: number;
  interrupted: number;
  linesChecked: number;
}

/** Checks the database against what the clients of one round were told. */
function check(db: string, clients: Client[]): RoundReport {
  const handle = openReadOnly(db);
  try {
    const running = handle.prepare("SELECT id FROM runs WHERE status = 'running'").all() as { id: string }[];
    expect(running, 'runs left running after the restart').to.deep.equal([]);
    const runOf = handle.prepare('SELECT num, status, error FROM runs WHERE id = ?');
    const logsOf = handle.prepare('SELECT seq, msg FROM run_logs WHERE run_num = ? ORDER BY seq');
    const report: RoundReport = { runs: 0, completed: 0, interrupted: 0, linesChecked: 0 };
    for (const client of clients) {
      const started = client.messages.find((m) => m.cmd === 'started');
      if (!started) continue;
      report.runs += 1;
      const id = started.param.id as string;
      const run = runOf.get(id) as { num: number; status: string; error: string } | undefined;
      expect(run, `run ${id} (${client.tag}) was announced but is not in the database`).to.not.equal(undefined);
      const stored = new Map((logsOf.all(run!.num) as { seq: number; msg: string }[]).map((l) => [l.seq, l.msg]));
      const outputs = client.messages.filter((m) => m.cmd === 'output').map((m) => m.param as { seq: number; msg: string });
      // The stream itself: in order, no gap, no duplicate.
      expect(outputs.map((o) => o.seq), `${client.tag}: seqs sent`).to.deep.equal(outputs.map((_, i) => i + 1));
      for (const { seq, msg } of outputs) {
        if (stored.get(seq) !== msg) expect.fail(`${client.tag} (run ${id}) was sent line ${seq} ${JSON.stringify(msg)}, the database has ${JSON.stringify(stored.get(seq) ?? null)}`);
      }
      report.linesChecked += outputs.length;
      const complete = client.messages.find((m) => m.cmd === 'complete');
      if (complete) {
        report.completed += 1;
        expect(run!.status, `${client.tag}: the outcome the client was sent`).to.equal(complete.param.result.status);
        expect(stored.size, `${client.tag}: lines of a completed run`).to.equal(client.lines + 1);
      } else {
        // The kill came first, or the run ended just before it (its last messages were still in flight).
        expect(run!.status, `${client.tag}: status`).to.be.oneOf(['interrupted', 'ok']);
        if (run!.status === 'interrupted') {
          report.interrupted += 1;
          expect(run!.error).to.equal('the process stopped while this run was running');
        }
      }
    }
    expect(integrityCheck(db)).to.equal('ok');
    return report;
  } finally {
    handle.close();
  }
}

describe(`crash safety: kill -9 during ${RUNS} live runs, ${ROUNDS} rounds`, function () {
  this.timeout(120_000);
  const random = generator(SEED);
  const reports: RoundReport[] = [];
  const walBytes: number[] = [];
  let dir: string;
  let db: string;
  let plugins: string;
  let server: ServerProcess;

  before(async () => {
    dir = makeTempDir();
    db = path.join(dir, 'data', 'taskdeck.db');
    plugins = path.join(dir, 'plugins');
    fs.mkdirSync(plugins);
    fs.writeFileSync(path.join(plugins, 'chatter.mjs'), CHATTER);
    server = await startServer({ db, plugins });
  });
  after(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) await server.kill9();
    removeDir(dir);
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: every line a client was sent survives the kill; nothing is left running`, async () => {
      try {
        const clients = launch(server.url, round, random);
        // Once runs are under way, anywhere from "sockets still opening" to "most runs finished".
        for (let waited = 0; !clients.some((c) => c.messages.length > 0) && waited < 10_000; waited += 10) await sleep(10);
        await sleep(Math.floor(random() * 2500));
        const exit = await server.kill9();
        expect(exit.signal).to.equal('SIGKILL');
        await Promise.all(clients.map((c) => c.settled));
        walBytes.push(fs.existsSync(`${db}-wal`) ? fs.statSync(`${db}-wal`).size : 0);
        server = await startServer({ db, plugins });
        reports.push(check(db, clients));
      } catch (error) {
        (error as Error).message = `[TASKDECK_CRASH_SEED=${SEED}, round ${round}] ${(error as Error).message}`;
        throw error;
      }
    });
  }

  it('ends with a clean shutdown and a sound file', async function () {
    if (reports.length < ROUNDS) this.skip(); // a round failed: its own error says why
    const exit = await server.stop();
    expect(exit.code).to.equal(0);
    expect(integrityCheck(db)).to.equal('ok');
    const total = (key: keyof RoundReport) => reports.reduce((sum, r) => sum + r[key], 0);
    expect(total('linesChecked'), 'no client received a line in any round').to.be.greaterThan(0);
    expect(total('interrupted'), 'no kill ever hit a running run').to.be.greaterThan(0);
    // One line for the record (and the report): what was actually exercised.
    console.log(
      `      crash rounds: ${ROUNDS}, seed ${SEED}; runs announced ${total('runs')}, completed ${total('completed')}, interrupted ${total('interrupted')}; ` +
        `lines checked ${total('linesChecked')} (${Math.round(total('linesChecked') / ROUNDS)} a round); WAL left by the kill: ${Math.min(...walBytes)}-${Math.max(...walBytes)} bytes`,
    );
  });
});
