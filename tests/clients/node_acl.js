// ACL check with a real client: npm `ali-ons@3.12.0` signing with its `accessKey`/`secretKey`
// options.
//
// Usage: node node_acl.js produce NAMESRV TOPIC ACCESS_KEY SECRET_KEY COUNT
//        node node_acl.js consume NAMESRV TOPIC ACCESS_KEY SECRET_KEY COUNT GROUP WAIT_SECS
// An empty ACCESS_KEY means no credentials. produce sends COUNT messages and stops at the first
// failure; consume push-consumes as GROUP from the first offset until COUNT messages arrived or
// WAIT_SECS passed. Prints one JSON line (sent / received, the first error text); exits 0.
'use strict';

const { Producer, Consumer, Message } = require('ali-ons');

const [mode, namesrv, topic, ak, sk, countArg, group, waitArg] = process.argv.slice(2);
const count = parseInt(countArg, 10);
// ali-ons asserts an httpclient even when nameSrv is given; it is never used then.
const httpclient = { request: async () => { throw new Error('unused'); } };
const creds = ak ? { accessKey: ak, secretKey: sk } : {};

function text(err) {
  return `${err && err.name}: ${err && err.message}`;
}

async function produce() {
  const producer = new Producer(Object.assign({ httpclient, nameSrv: namesrv, producerGroup: 'PG_node_acl' }, creds));
  let sent = 0;
  let error = null;
  producer.on('error', err => { if (!error) error = text(err); });
  try {
    await producer.ready();
    for (let i = 0; i < count; i++) {
      const msg = new Message(topic, 'TagA', `acl-body-${i}`);
      msg.keys = [`key-${i}`];
      const r = await producer.send(msg);
      if (r.sendStatus !== 'SEND_OK') throw new Error(`status ${r.sendStatus}`);
      sent++;
    }
  } catch (err) {
    error = text(err);
  }
  // Closing unregisters the client, which a refused account cannot do either.
  await Promise.race([producer.close().catch(() => {}), new Promise(r => setTimeout(r, 3000))]);
  return { sent, error };
}

async function consume() {
  const seen = new Set();
  const errors = [];
  const consumer = new Consumer(Object.assign({
    httpclient, nameSrv: namesrv, consumerGroup: group, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  }, creds));
  consumer.on('error', err => errors.push(text(err)));
  let done;
  const all = new Promise(resolve => { done = resolve; });
  consumer.subscribe(topic, '*', async msg => {
    seen.add(msg.body.toString());
    if (seen.size >= count) done();
  });
  const wait = new Promise(r => setTimeout(r, parseFloat(waitArg) * 1000));
  try {
    await Promise.race([consumer.ready(), wait]);
  } catch (err) {
    errors.push(text(err));
  }
  await Promise.race([all, wait]);
  await Promise.race([consumer.close().catch(() => {}), new Promise(r => setTimeout(r, 3000))]);
  return { received: seen.size, bodies: Array.from(seen).sort().slice(0, 5), error: errors[0] || null };
}

(mode === 'produce' ? produce() : consume())
  .then(r => { console.log(JSON.stringify(r)); process.exit(0); })
  .catch(err => { console.log(JSON.stringify({ error: text(err) })); process.exit(0); });
