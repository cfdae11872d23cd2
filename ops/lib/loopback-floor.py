#!/usr/bin/env python3
"""The kernel's share of one delivery on loopback: one process writes a small WebSocket-sized
frame to each of N TCP connections per round (a reader process on the other end, epoll, like
the load generator), and reports its own system CPU per write: what any server pays per
delivery on this machine before its own code runs (on loopback the sender's write also runs
the receiving socket's TCP path).

    ops/lib/loopback-floor.py [connections=10000] [rounds per second=20] [seconds=8]
"""
import os, resource, select, socket, sys, time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rounds_per_s = float(sys.argv[2]) if len(sys.argv) > 2 else 20
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 8
payload = b"\x81\x50" + b"x" * 80  # an 80-byte text frame, about a bench push's size
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0)); listener.listen(4096)
port = listener.getsockname()[1]
ready_r, ready_w = os.pipe()
pid = os.fork()
if pid == 0:  # the reader: connects, then reads everything with epoll
    listener.close()
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port)); s.setblocking(False); conns.append(s)
    os.write(ready_w, b"1")
    ep = select.epoll()
    for s in conns: ep.register(s.fileno(), select.EPOLLIN)
    by_fd = {s.fileno(): s for s in conns}
    deadline = time.time() + seconds + 30
    while time.time() < deadline:
        for fd, _ in ep.poll(1):
            try:
                if not by_fd[fd].recv(65536): deadline = 0
            except BlockingIOError: pass
    os._exit(0)
accepted = []
for _ in range(n):
    s, _ = listener.accept(); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); accepted.append(s)
os.read(ready_r, 1)
before = resource.getrusage(resource.RUSAGE_SELF); writes = 0
start = time.time(); rounds = int(seconds * rounds_per_s)
for r in range(rounds):
    for s in accepted: s.send(payload)
    writes += n
    wait = start + (r + 1) / rounds_per_s - time.time()
    if wait > 0: time.sleep(wait)
after = resource.getrusage(resource.RUSAGE_SELF)
sys_us = (after.ru_stime - before.ru_stime) * 1e6 / writes
user_us = (after.ru_utime - before.ru_utime) * 1e6 / writes
print(f"{n} connections, {writes} writes in {time.time() - start:.1f} s: sender kernel {sys_us:.2f} µs per write (its Python user time {user_us:.2f} µs)")
for s in accepted: s.close()
os.waitpid(pid, 0)
