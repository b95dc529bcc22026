"""Real third-party client check: PyPI `rocketmq-client-python==2.0.0` (C++ client 2.1 underneath),
its TransactionMQProducer.

Usage: python_transaction.py NAMESRV TOPIC GROUP WAIT_SECS

Sends three transactional messages whose local transactions answer COMMIT ("commit"), ROLLBACK
("rollback") and UNKNOWN ("unknown"); the check callback answers COMMIT. Waits (at most WAIT_SECS)
until the broker checked "unknown" back, then a moment more for the END_TRANSACTION to leave.
Prints one JSON line (send results, local and checked bodies) and exits with os._exit (the 2.x
library may crash at interpreter exit): 0 when the three sends were OK (SendStatus.OK) and "unknown" was
checked, else 1. Every wait is bounded.
"""
import json
import os
import sys
import threading
import time

from rocketmq.client import Message, TransactionMQProducer, TransactionStatus

namesrv, topic, group, wait_secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
local_answers = {
    "commit": TransactionStatus.COMMIT,
    "rollback": TransactionStatus.ROLLBACK,
    "unknown": TransactionStatus.UNKNOWN,
}
lock = threading.Lock()
checked = []
executed = []


def body_of(msg):
    b = msg.body
    return b.decode() if isinstance(b, bytes) else str(b)


def check(msg):
    with lock:
        checked.append(body_of(msg))
    return TransactionStatus.COMMIT


def local_execute(msg, user_args):
    b = body_of(msg)
    with lock:
        executed.append(b)
    return local_answers.get(b, TransactionStatus.UNKNOWN)


producer = TransactionMQProducer(group, check)
producer.set_name_server_address(namesrv)
producer.start()
sends = []
for body in ["commit", "rollback", "unknown"]:
    m = Message(topic)
    m.set_keys(body)
    m.set_tags("TagTx")
    m.set_body(body)
    r = producer.send_message_in_transaction(m, local_execute, None)
    sends.append({"body": body, "status": r.status.name, "msg_id": r.msg_id})

deadline = time.time() + wait_secs
while time.time() < deadline:
    with lock:
        if "unknown" in checked:
            break
    time.sleep(0.1)
time.sleep(2)
with lock:
    summary = {"sends": sends, "executed": list(executed), "checked": list(checked)}
ok = all(s["status"] == "OK" for s in sends) and "unknown" in summary["checked"]
print(json.dumps(summary), flush=True)
os._exit(0 if ok else 1)
