"""A consumer-group member on the real C++ client (PyPI `rocketmq==0.4.4`), for mixed-group tests.

Usage: python_group_member.py NAMESRV GROUP TOPIC SECS

Runs a clustering push consumer of GROUP on TOPIC for SECS seconds (bounded), printing one line per
message, `MSG <queue id> <queue offset> <keys>`, flushed at once, then shuts down and prints DONE.
Prints READY once started. Exits early when stdin closes.
"""
import sys
import threading
import time

from rocketmq.client import PushConsumer

namesrv, group, topic, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
out_lock = threading.Lock()


def say(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def on_message(msg):
    keys = msg.keys.decode() if isinstance(msg.keys, bytes) else msg.keys
    say("MSG %d %d %s" % (msg.queue_id, msg.queue_offset, keys or "-"))


stop = threading.Event()


def watch_stdin():
    for _ in sys.stdin:
        pass
    stop.set()


threading.Thread(target=watch_stdin, daemon=True).start()
consumer = PushConsumer(group)
consumer.set_namesrv_addr(namesrv)
consumer.subscribe(topic, on_message)
consumer.start()
say("READY")
stop.wait(secs)
consumer.shutdown()
say("DONE")
