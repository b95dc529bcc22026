// Real third-party client check: npm `ali-ons@3.12.0` (pure-JavaScript RocketMQ 4.x client).
//
// Usage: node node_client.js NAMESRV TOPIC COUNT
// Sends COUNT messages with distinct keys, tags and bodies, push-consumes them and checks every
// message arrived with its body, tags and keys intact. Prints one JSON line; exit 0 on success.
'use strict';

const { Producer, Consumer, Message } = require('ali-ons');

const [namesrv, topic, countArg] = process.argv.slice(2);
const count = parseInt(countArg, 10);
const tags = ['TagA', 'TagB', 'TagC'];
// ali-ons asserts an httpclient even when nameSrv is given; it is never used then.
const httpclient = { request: async () => { throw new Error('unused'); } };

function expected(i) {
  return { body: `body-${i}-${'y'.repeat(i % 50)}`, tag: tags[i % 3], key: `key-${i}` };
}

async function main() {
  const producer = new Producer({ httpclient, nameSrv: namesrv, producerGroup: 'PG_node' });
  await producer.ready();
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    const e = expected(i);
    const msg = new Message(topic, e.tag, e.body);
    msg.keys = [e.key];
    const r = await producer.send(msg);
    if (r.sendStatus !== 'SEND_OK') throw new Error(`send ${i}: ${r.sendStatus}`);
  }
  const sendSecs = (Date.now() - t0) / 1000;
  await producer.close();

  const seen = new Map();
  const problems = [];
  const consumer = new Consumer({
    httpclient, nameSrv: namesrv, consumerGroup: 'CG_node',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  consumer.on('error', err => problems.push(String(err && err.message || err)));
  const t1 = Date.now();
  const done = new Promise(resolve => {
    consumer.subscribe(topic, '*', async msg => {
      // The getter returns the KEYS property: keys joined by a space.
      const key = String(msg.keys || '').split(' ')[0];
      const i = parseInt(String(key).split('-')[1], 10);
      const e = expected(i);
      if (msg.body.toString() !== e.body || msg.tags !== e.tag || key !== e.key) {
        problems.push(`message ${i} mismatch: ${msg.body.toString().slice(0, 40)} ${msg.tags} ${key}`);
      }
      seen.set(i, (seen.get(i) || 0) + 1);
      if (seen.size >= count) resolve();
    });
  });
  await consumer.ready();
  await Promise.race([done, new Promise(r => setTimeout(r, 60000))]);
  const consumeSecs = (Date.now() - t1) / 1000;
  await consumer.close();

  const missing = [];
  for (let i = 0; i < count; i++) if (!seen.has(i)) missing.push(i);
  // The expected first-time "offset not found" log of a new group is not a problem.
  const real = problems.filter(p => !/readOffset|Not found|not found/i.test(p));
  const result = {
    sent: count, received: seen.size, missing: missing.slice(0, 10), problems: real.slice(0, 10),
    send_secs: sendSecs, consume_secs: consumeSecs,
  };
  console.log(JSON.stringify(result));
  process.exit(missing.length === 0 && real.length === 0 ? 0 : 1);
}

main().catch(err => { console.log(JSON.stringify({ error: String(err && err.stack || err) })); process.exit(1); });
