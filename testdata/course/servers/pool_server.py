#!/usr/bin/env python3
"""A course server with a pool of workers: threads or processes, as the
assignment asks for both.

Usage: pool_server.py --port PORT --mode thread|process --workers N [--dir DIR]
       (PORT 0: any free port; the port is printed on stdout; DIR: the
       current directory by default)

  --mode thread    N threads, each accepting a connection and serving it
                   to the end, then the next
  --mode process   N processes forked at the start (pre-fork), each
                   accepting on the listening socket they all inherit; the
                   parent forks a new one when one dies, and stops them
                   all on SIGTERM

So at most N connections are served at once in either mode; the others
wait in the listen queue. Text requests ended by "\\r\\n\\r\\n", several
per connection (LIST, GET, UPLOAD, DELETE; UPLOAD's reply has no size and
no hash; no STATS), as course_server.py answers them. The requests are
read into one buffer that is searched from where the last search ended,
so a large upload is not searched again at every recv; each request is
still held whole in memory, as course code does.

run_matrix.sh runs it for every mode and worker count of the matrix:
  SERVER_CMD='python3 testdata/course/servers/pool_server.py --port $PORT --mode $MODE --workers $WORKERS' ./run_matrix.sh
"""
import argparse
import os
import signal
import sys
import threading

import course_server


def requests_in_one_buffer(conn):
    """Yields each request of the connection, ended by "\\r\\n\\r\\n",
    until the client closes; only the bytes not searched yet (and the 3
    before them) are searched after each recv."""
    buf = bytearray()
    start = 0
    while True:
        i = buf.find(b"\r\n\r\n", start)
        if i >= 0:
            request = buf[:i].decode()
            del buf[:i + 4]
            start = 0
            yield request
            continue
        start = max(0, len(buf) - 3)
        data = conn.recv(65536)
        if not data:
            return
        buf += data


def worker(s, folder):
    """One worker: accepts a connection, serves it to the end, and again."""
    while True:
        try:
            conn, _ = s.accept()
        except OSError:
            continue
        course_server.layani(conn, folder, framing=requests_in_one_buffer)


def thread_pool(s, folder, n):
    threads = [threading.Thread(target=worker, args=(s, folder), daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def fork_worker(s, folder):
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            worker(s, folder)
        finally:
            os._exit(0)
    return pid


def process_pool(s, folder, n):
    children = set()
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    for _ in range(n):
        children.add(fork_worker(s, folder))
    while not stopping:
        pid, status = os.wait()
        children.discard(pid)
        if not stopping:
            print("worker %d ended (status %d): forking another" % (pid, status), flush=True)
            children.add(fork_worker(s, folder))


def main():
    p = argparse.ArgumentParser(description="a course file server with a thread or process pool")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["thread", "process"], required=True)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--dir", default=".")
    args = p.parse_args()
    if args.workers < 1:
        p.error("--workers: 1 or more")
    s = course_server.listen(args.port, backlog=128)
    print("serving %s, %s mode, %d workers" % (os.path.abspath(args.dir), args.mode, args.workers), flush=True)
    if args.mode == "thread":
        thread_pool(s, args.dir, args.workers)
    else:
        process_pool(s, args.dir, args.workers)


if __name__ == "__main__":
    main()
