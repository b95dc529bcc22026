"""ACL check with a real client: PyPI `rocketmq==0.4.4` (the official C++ client 1.x) signing with
`set_session_credentials(accessKey, secretKey, "ALIYUN")`.

Usage: python_acl.py produce NAMESRV TOPIC ACCESS_KEY SECRET_KEY COUNT
       python_acl.py consume NAMESRV TOPIC ACCESS_KEY SECRET_KEY COUNT GROUP WAIT_SECS
An empty ACCESS_KEY means no credentials (anonymous requests).

produce: sends COUNT messages (keys key-0.., bodies acl-body-i) and stops at the first failure.
consume: push-consumes TOPIC as GROUP until COUNT distinct messages arrived or WAIT_SECS passed.
Prints one JSON line with what happened (sent / received, the first error text) and exits 0;
the test decides what was expected. Every wait is bounded.
"""
import json
import sys
import threading
import time

from rocketmq.client import Message, Producer, PushConsumer

mode, namesrv, topic, ak, sk, count = sys.argv[1:7]
count = int(count)


def credentials(client):
    if ak:
        client.set_session_credentials(ak, sk, "ALIYUN")


if mode == "produce":
    producer = Producer("PG_py_acl")
    producer.set_namesrv_addr(namesrv)
    credentials(producer)
    producer.start()
    sent, error = 0, None
    for i in range(count):
        m = Message(topic)
        m.set_keys("key-%d" % i)
        m.set_body(("acl-body-%d" % i).encode())
        try:
            r = producer.send_sync(m)
        except Exception as e:  # the client raises on a refused send
            error = "%s: %s" % (type(e).__name__, e)
            break
        if int(r.status) != 0:
            error = "status %s" % r.status
            break
        sent += 1
    producer.shutdown()
    print(json.dumps({"sent": sent, "error": error}))
else:
    group, wait = sys.argv[7], float(sys.argv[8])
    seen = set()
    lock = threading.Lock()

    def record(msg):
        with lock:
            seen.add(msg.body)

    consumer = PushConsumer(group)
    consumer.set_namesrv_addr(namesrv)
    credentials(consumer)
    consumer.subscribe(topic, record)
    consumer.start()
    deadline = time.time() + wait
    while len(seen) < count and time.time() < deadline:
        time.sleep(0.1)
    consumer.shutdown()
    bodies = sorted(b.decode() if isinstance(b, bytes) else b for b in seen)
    print(json.dumps({"received": len(seen), "bodies": bodies[:5]}))
sys.exit(0)
