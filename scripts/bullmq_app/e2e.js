// BullMQ, the Node.js job queue, against ferrokv end to end.
//
//     node e2e.js PATH/TO/ferrokv     # the check `just bullmq-e2e` runs
//     node e2e.js redis               # the same against a real redis-server
//
// Starts the server on a free loopback port and runs, through BullMQ's own API (its Lua
// scripts, streams of events and blocking moves): plain jobs with a worker, a job retried
// with backoff, a delayed job, a prioritised one, a parent/children flow, waitUntilFinished
// over QueueEvents (XREAD BLOCK), a lock renewed past its duration, the rate limiter, a job
// scheduler, pause/resume, removal and clean. Ends with a check that the server answered no
// command with an error (INFO commandstats). Exit code 0 when every check passed.
'use strict';
const { spawn } = require('child_process');
const net = require('net');
const { Queue, Worker, QueueEvents, FlowProducer } = require('bullmq');

const sleep = ms => new Promise(r => setTimeout(r, ms));
let failed = 0;
function check(cond, what) {
  console.log(`  ${cond ? 'ok ' : 'FAIL'} ${what}`);
  if (!cond) failed++;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise(r => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); r(true); });
      c.on('error', () => r(false));
    });
    if (up) return;
    await sleep(50);
  }
  throw new Error(`server on ${port} did not start`);
}

// Runs `fn` until it is true or `ms` pass; the last value.
async function until(fn, ms) {
  const end = Date.now() + ms;
  let v = await fn();
  while (!v && Date.now() < end) { await sleep(50); v = await fn(); }
  return v;
}

async function jobs(connection) {
  const q = new Queue('e2e', { connection });
  let flakyTries = 0;
  const w = new Worker('e2e', async job => {
    if (job.name === 'flaky' && ++flakyTries < 3) throw new Error(`boom ${flakyTries}`);
    if (job.name === 'child') return job.data.x * 2;
    if (job.name === 'parent') {
      const vals = await job.getChildrenValues();
      return Object.values(vals).reduce((a, b) => a + b, 0);
    }
    return job.data.n + 1;
  }, { connection, concurrency: 4 });
  for (let i = 0; i < 50; i++) await q.add('plain', { n: i });
  const flaky = await q.add('flaky', { n: 0 }, { attempts: 5, backoff: { type: 'fixed', delay: 100 } });
  const delayed = await q.add('delayed', { n: 7 }, { delay: 500 });
  await q.add('prio', { n: 9 }, { priority: 3 });
  const fp = new FlowProducer({ connection });
  const flow = await fp.add({
    name: 'parent', queueName: 'e2e', data: {},
    children: [{ name: 'child', queueName: 'e2e', data: { x: 1 } },
      { name: 'child', queueName: 'e2e', data: { x: 20 } }],
  });
  const counts = await until(async () => {
    const c = await q.getJobCounts('completed', 'failed');
    return c.completed === 56 ? c : null;
  }, 20000) || await q.getJobCounts('completed', 'failed');
  check(counts.completed === 56 && counts.failed === 0, `56 jobs completed, none failed (${JSON.stringify(counts)})`);
  const f = await q.getJob(flaky.id);
  check(f.attemptsMade === 3 && f.returnvalue === 1, `the flaky job succeeded on its third attempt (${f.attemptsMade})`);
  const d = await q.getJob(delayed.id);
  check(d.returnvalue === 8 && d.processedOn - d.timestamp >= 500, `the delayed job ran after its delay (${d.processedOn - d.timestamp} ms)`);
  const p = await q.getJob(flow.job.id);
  check(p.returnvalue === 42, `the flow's parent summed its children's results (${p.returnvalue})`);
  await w.close();
  await fp.close();
  await q.obliterate({ force: true });
  await q.close();
}

async function events(connection) {
  const q = new Queue('e2e-events', { connection });
  const ev = new QueueEvents('e2e-events', { connection });
  await ev.waitUntilReady();
  let done = 0;
  let scheduled = 0;
  const w = new Worker('e2e-events', async job => {
    if (job.name === 'scheduled') { scheduled++; return 's'; }
    if (job.name === 'slow') { await sleep(1200); return 'slow-done'; }
    done++;
    return job.data.n * 3;
  }, { connection, concurrency: 2, limiter: { max: 10, duration: 300 }, lockDuration: 1000 });
  const one = await q.add('one', { n: 5 });
  check(await one.waitUntilFinished(ev, 5000) === 15, 'waitUntilFinished returned the result (QueueEvents)');
  const slow = await q.add('slow', {});
  check(await slow.waitUntilFinished(ev, 5000) === 'slow-done', 'a job running past its lock duration kept its lock');
  const t0 = Date.now();
  for (let i = 0; i < 30; i++) await q.add('limited', { n: i });
  await until(() => done === 31, 10000);
  const ms = Date.now() - t0;
  check(done === 31 && ms >= 600, `the limiter (10 per 300 ms) spread 30 jobs over ${ms} ms`);
  await q.upsertJobScheduler('every-200ms', { every: 200 }, { name: 'scheduled' });
  await sleep(1100);
  await q.removeJobScheduler('every-200ms');
  check(scheduled >= 3, `the job scheduler produced ${scheduled} jobs in 1.1 s`);
  await q.pause();
  const held = await q.add('held', { n: 1 });
  await sleep(300);
  check(await held.getState() === 'waiting', 'a paused queue holds its jobs');
  await q.resume();
  // Up to BullMQ's block timeout (drainDelay, 5 s) plus slack: a worker not yet blocked when
  // the queue resumed finds the job on its next poll. The wait is printed.
  const resumed = Date.now();
  const heldResult = await held.waitUntilFinished(ev, 15000);
  check(heldResult === 3, `the job ran once the queue resumed (${Date.now() - resumed} ms)`);
  const removed = await q.add('removed', { n: 1 }, { delay: 100000 });
  await removed.remove();
  check(await q.getJob(removed.id) === undefined, 'a removed job is gone');
  const cleaned = await q.clean(0, 1000, 'completed');
  const counts = await q.getJobCounts();
  check(cleaned.length >= 30 && counts.completed === 0 && counts.delayed === 0,
    `clean removed ${cleaned.length} completed jobs, nothing left behind`);
  await w.close();
  await ev.close();
  await q.obliterate({ force: true });
  await q.close();
}

// Calls the server answered with an error, from INFO commandstats (null when it lists no
// command at all, which would make the check vacuous).
async function errorCalls(connection) {
  const q = new Queue('e2e-info', { connection });
  const client = await q.client;
  const info = await client.info('commandstats');
  await q.close();
  const bad = [];
  let seen = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):(.*)$/gm)) {
    seen++;
    const f = Object.fromEntries(m[2].trim().split(',').map(kv => kv.split('=')));
    if (f.failed_calls !== '0' || f.rejected_calls !== '0') {
      bad.push(`${m[1]} failed=${f.failed_calls} rejected=${f.rejected_calls}`);
    }
  }
  return seen > 0 ? { bad, seen } : null;
}

(async () => {
  const target = process.argv[2];
  if (!target) throw new Error('usage: node e2e.js PATH/TO/ferrokv | redis');
  const port = await freePort();
  const args = target === 'redis'
    ? ['--port', `${port}`, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
    : ['--port', `${port}`];
  const server = spawn(target === 'redis' ? 'redis-server' : target, args, { stdio: 'ignore' });
  const connection = { host: '127.0.0.1', port };
  try {
    await waitPort(port);
    console.log(`BullMQ ${require('bullmq/package.json').version} against ${target} on port ${port}`);
    await jobs(connection);
    await events(connection);
    const bad = await errorCalls(connection);
    check(bad !== null && bad.bad.length === 0, bad === null
      ? 'no command answered with an error (INFO commandstats lists nothing)'
      : `no command answered with an error (${bad.bad.join('; ') || `${bad.seen} commands in INFO commandstats`})`);
  } finally {
    server.kill('SIGTERM');
  }
  console.log(failed === 0 ? 'bullmq-e2e: all checks passed' : `bullmq-e2e: ${failed} checks FAILED`);
  process.exit(failed === 0 ? 0 : 1);
})().catch(e => { console.error('bullmq-e2e: ERROR', e); process.exit(2); });
