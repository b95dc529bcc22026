"""Real third-party client check: PyPI `rocketmq==0.4.4` (the official C++ client 1.x underneath).

Usage: python_client.py NAMESRV TOPIC COUNT MODE   (MODE: pull | push)

Sends COUNT messages with distinct keys, tags and bodies, then consumes them with the chosen
consumer and checks every message arrived once with its body, tags and keys intact. Prints one
JSON line with the figures and exits 0 on success, 1 on failure. Every wait is bounded.
"""
import json
import sys
import threading
import time

from rocketmq.client import Message, Producer, PullConsumer, PushConsumer

namesrv, topic, count, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
tags = ["TagA", "TagB", "TagC"]


def expected(i):
    return ("body-%d-%s" % (i, "x" * (i % 50))).encode(), tags[i % 3], "key-%d" % i


producer = Producer("PG_py_" + mode)
producer.set_namesrv_addr(namesrv)
producer.start()
t0 = time.time()
for i in range(count):
    body, tag, key = expected(i)
    m = Message(topic)
    m.set_keys(key)
    m.set_tags(tag)
    m.set_body(body)
    r = producer.send_sync(m)
    if int(r.status) != 0:
        print(json.dumps({"error": "send %d status %s" % (i, r.status)}))
        sys.exit(1)
send_secs = time.time() - t0
producer.shutdown()

seen = {}
lock = threading.Lock()
problems = []


def record(msg):
    key = msg.keys.decode() if isinstance(msg.keys, bytes) else msg.keys
    body = msg.body
    tag = msg.tags.decode() if isinstance(msg.tags, bytes) else msg.tags
    try:
        i = int(key.split("-")[1])
    except Exception:
        problems.append("bad key %r" % (key,))
        return
    if (body, tag, key) != expected(i):
        problems.append("message %d mismatch: %r %r %r" % (i, body[:40], tag, key))
    with lock:
        seen[i] = seen.get(i, 0) + 1


t1 = time.time()
deadline = t1 + 60
if mode == "pull":
    consumer = PullConsumer("CG_py_pull")
    consumer.set_namesrv_addr(namesrv)
    consumer.start()
    while len(seen) < count and time.time() < deadline:
        for msg in consumer.pull(topic):
            record(msg)
        if len(seen) < count:
            time.sleep(0.2)
    consumer.shutdown()
else:
    consumer = PushConsumer("CG_py_push")
    consumer.set_namesrv_addr(namesrv)
    consumer.subscribe(topic, record)
    consumer.start()
    while len(seen) < count and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    consumer.shutdown()
consume_secs = time.time() - t1

missing = [i for i in range(count) if i not in seen]
result = {
    "mode": mode,
    "sent": count,
    "received": len(seen),
    "duplicates": sum(v - 1 for v in seen.values()),
    "missing": missing[:10],
    "problems": problems[:10],
    "send_secs": round(send_secs, 3),
    "consume_secs": round(consume_secs, 3),
}
print(json.dumps(result))
sys.exit(0 if not missing and not problems else 1)
