#!/usr/bin/env python3
"""A bounded memcached loader: `set` and `get` over a fixed key space, for a fixed time.

  memcache_load.py PORT [SECONDS=12] [KEYS=1000] [VALUE_BYTES=1024] [CONNECTIONS=4]

The key space is bounded, so once every key has been written the server holds a fixed amount of
data: a correct server's memory stops growing, which is what the no-false-positive test checks.
"""
import socket
import sys
import threading
import time


def worker(port, deadline, keys, value, offset):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    i = offset
    while time.time() < deadline:
        key = b"k%d" % (i % keys)
        s.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(value), value))
        f.readline()
        s.sendall(b"get %s\r\n" % key)
        line = f.readline()
        if line.startswith(b"VALUE"):
            f.read(int(line.split()[3]) + 2)
            f.readline()  # END
        i += 7
    s.close()


def main():
    port = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 12
    keys = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 1024
    conns = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    deadline = time.time() + seconds
    value = b"v" * size
    threads = [threading.Thread(target=worker, args=(port, deadline, keys, value, n))
               for n in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
