#!/usr/bin/python3
"""One process of the SO_REUSEPORT story (issue 15).

A gRPC server that, like a Python model server held by the GIL, serves one
call at a time: a process-wide lock is held for --hold-ms per call. Several
of these share one port with SO_REUSEPORT (grpcio sets it by default), so
the kernel spreads TCP connections over them, and every HTTP/2 stream
stays on the process its connection landed on. Each process counts the
calls it served and writes the count to --count-file when it gets SIGTERM
(and, with --report-every, while it runs).

The service is protobuf-free: a generic handler on raw bytes,
/bench.Echo/Call answers with the request message. Needs Debian's
python3-grpcio.
"""
import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc


def write_count(path, n):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % n)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--hold-ms", type=float, default=2.0)
    ap.add_argument("--count-file", required=True)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()

    lock = threading.Lock()
    served = [0]

    def call(request, context):
        with lock:  # one call at a time per process, as under the GIL
            time.sleep(args.hold_ms / 1000.0)
            served[0] += 1
        return request

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Call": grpc.unary_unary_rpc_method_handler(call)})
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=args.workers),
        handlers=[handler],
        options=[("grpc.so_reuseport", 1)])
    if server.add_insecure_port("127.0.0.1:%d" % args.port) == 0:
        print("cannot bind 127.0.0.1:%d" % args.port, file=sys.stderr, flush=True)
        sys.exit(1)
    server.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print("ready pid %d port %d" % (os.getpid(), args.port), flush=True)
    # Wait in short slices: a wait without a timeout may sit in grpc's C
    # threads' shadow and run the SIGTERM handler late (the harness saw a
    # process not stop within 10 s under the race detector's load).
    while not done.wait(0.1):
        pass
    server.stop(0)
    with lock:
        write_count(args.count_file, served[0])


if __name__ == "__main__":
    main()
