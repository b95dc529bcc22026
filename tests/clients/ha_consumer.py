"""Failover check for PyPI `rocketmq==0.4.4` (the official C++ client 1.x underneath).

Usage: ha_consumer.py NAMESRV TOPIC COUNT GROUP LIMIT_SECS

Push-consumes TOPIC in GROUP (default settings, as a user runs it) until the messages with keys
key-0 .. key-(COUNT-1) have all arrived or LIMIT_SECS pass. Prints a JSON line {"progress": n}
whenever the number of distinct keys received changes (the test acts on these), then one JSON
summary line. Exit 0 when every key arrived.
"""
import json
import sys
import threading
import time

from rocketmq.client import PushConsumer

namesrv, topic, count, group, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
seen = {}
lock = threading.Lock()


def record(msg):
    key = msg.keys.decode() if isinstance(msg.keys, bytes) else msg.keys
    with lock:
        seen[key] = seen.get(key, 0) + 1


consumer = PushConsumer(group)
consumer.set_namesrv_addr(namesrv)
consumer.subscribe(topic, record)
consumer.start()
t0 = time.time()
last = -1
while time.time() < t0 + limit:
    with lock:
        n = len(seen)
    if n != last:
        print(json.dumps({"progress": n}), flush=True)
        last = n
    if n >= count:
        break
    time.sleep(0.05)
secs = time.time() - t0
consumer.shutdown()

with lock:
    missing = [i for i in range(count) if "key-%d" % i not in seen]
    duplicates = sum(v - 1 for v in seen.values())
print(json.dumps({"received": count - len(missing), "missing": missing[:20],
                  "missing_count": len(missing), "duplicates": duplicates,
                  "secs": round(secs, 3)}), flush=True)
sys.exit(0 if not missing else 1)
