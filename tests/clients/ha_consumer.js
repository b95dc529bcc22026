// Failover check for npm `ali-ons@3.12.0` (pure-JavaScript RocketMQ 4.x client).
//
// Usage: node ha_consumer.js NAMESRV TOPIC COUNT GROUP LIMIT_SECS
// Push-consumes TOPIC in GROUP (default settings apart from consuming from the first offset)
// until the messages with keys key-0 .. key-(COUNT-1) have all arrived or LIMIT_SECS pass.
// Prints {"progress": n} whenever the number of distinct keys received changes, then one JSON
// summary line; the client's error events go to stderr. Exit 0 when every key arrived.
'use strict';

const { Consumer } = require('ali-ons');

const [namesrv, topic, countArg, group, limitArg] = process.argv.slice(2);
const count = parseInt(countArg, 10);
const limitMs = parseFloat(limitArg) * 1000;
// ali-ons asserts an httpclient even when nameSrv is given; it is never used then.
const httpclient = { request: async () => { throw new Error('unused'); } };

async function main() {
  const seen = new Map();
  const consumer = new Consumer({
    httpclient, nameSrv: namesrv, consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  consumer.on('error', err => console.error('client error:', String(err && err.message || err)));
  let last = -1;
  const progress = () => {
    if (seen.size !== last) {
      last = seen.size;
      console.log(JSON.stringify({ progress: seen.size }));
    }
  };
  const t0 = Date.now();
  const done = new Promise(resolve => {
    consumer.subscribe(topic, '*', async msg => {
      // The getter returns the KEYS property: keys joined by a space.
      const key = String(msg.keys || '').split(' ')[0];
      seen.set(key, (seen.get(key) || 0) + 1);
      progress();
      if (seen.size >= count) resolve();
    });
  });
  progress();
  await consumer.ready();
  await Promise.race([done, new Promise(r => setTimeout(r, limitMs))]);
  const secs = (Date.now() - t0) / 1000;
  await Promise.race([consumer.close(), new Promise(r => setTimeout(r, 5000))]);

  const missing = [];
  for (let i = 0; i < count; i++) if (!seen.has(`key-${i}`)) missing.push(i);
  let duplicates = 0;
  for (const v of seen.values()) duplicates += v - 1;
  console.log(JSON.stringify({
    received: count - missing.length, missing: missing.slice(0, 20),
    missing_count: missing.length, duplicates, secs,
  }));
  process.exit(missing.length === 0 ? 0 : 1);
}

main().catch(err => { console.log(JSON.stringify({ error: String(err && err.stack || err) })); process.exit(1); });
