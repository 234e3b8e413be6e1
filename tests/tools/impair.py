#!/usr/bin/env python3
"""A UDP impairment relay for kd's live-mode tests (issue 12): loss, duplication, reordering and
delay between a client and a service, reproducible from a seed.

  impair.py --target HOST:PORT [--listen HOST:PORT] [--drop P] [--dup P] [--reorder P]
            [--delay P] [--delay-ms MS] [--hold-ms MS] [--seed N] [--max-seconds S]
            [--match REGEX] [--log FILE]

It listens on --listen (default 127.0.0.1:0, a free port) and forwards each client's datagrams
to --target from a socket of that client's own (so the target sees one source per client, as it
would see distinct terminals), and relays the target's answers back to that client. Every
datagram, in both directions, goes through the same chances:

  --drop P      lost (nothing else happens to it)
  --dup P       sent twice
  --reorder P   held back until the next datagram of its flow and direction has gone, or
                --hold-ms (default 100) has passed
  --delay P     sent --delay-ms (default 50) later

P is a probability from 0 to 1. With --match REGEX (a Python regular expression searched in the
datagram's bytes: '^\x04' a RADIUS Accounting-Request, '"step":"s11"' a JSON s11) only the
datagrams it finds take these chances; the others pass untouched. SIGUSR1 ends every impairment:
from then on each datagram passes untouched (what is held back or delayed still leaves on time), so
a test drops a message for as long as it needs to, then lets the traffic through from the same
relay (same port, same sources towards the target); the relay prints
  {"event":"released"}
when it got the signal. The decisions for a datagram come from the seed, its direction
(up: client to target, down: back), its client (numbered in order of first appearance) and its
number within that flow, so the same seed makes the same decisions for the same traffic whatever
the timing of the two directions. --log FILE writes each decision as a JSON line, as it is made.

Once bound it prints one JSON line on stdout, flushed:
  {"event":"listening","addr":"udp:127.0.0.1:40511","port":40511}
It stops after --max-seconds (default 60) or on SIGTERM/SIGINT, and then prints its counts:
  {"event":"impair-summary","clients":N,"up":{...},"down":{...}}
with received, forwarded (datagrams sent on, duplicates included), dropped, duplicated,
reordered, delayed per direction. Test use only: both addresses must be loopback.

Exit status: 0 stopped as asked, 2 bad command line, 3 a socket could not be opened.
"""
import argparse
import hashlib
import heapq
import ipaddress
import json
import os
import random
import re
import selectors
import signal
import socket
import sys
import time

KINDS = ("received", "forwarded", "dropped", "duplicated", "reordered", "delayed")


def endpoint(text):
    """HOST:PORT or [IPv6]:PORT, loopback only, as (family, (host, port))."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: HOST must be an IP address") from None
    if not ip.is_loopback:
        raise argparse.ArgumentTypeError(f"{text!r}: only loopback addresses (a test tool)")
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return family, (host, int(port))


def probability(text):
    try:
        p = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability") from None
    if not 0.0 <= p <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1")
    return p


def non_negative(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return v


def pattern(text):
    try:
        return re.compile(text.encode("latin-1"))
    except (re.error, UnicodeEncodeError) as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular expression: {e}") from None


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="impair.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=endpoint, default=endpoint("127.0.0.1:0"))
    ap.add_argument("--target", type=endpoint, required=True)
    for name in ("drop", "dup", "reorder", "delay"):
        ap.add_argument("--" + name, type=probability, default=0.0)
    ap.add_argument("--delay-ms", type=non_negative, default=50.0)
    ap.add_argument("--hold-ms", type=non_negative, default=100.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=non_negative, default=60.0)
    ap.add_argument("--max-clients", type=int, default=1024)
    ap.add_argument("--match", type=pattern)
    ap.add_argument("--log")
    return ap.parse_args(argv)


class Relay:
    def __init__(self, args):
        self.args = args
        self.sel = selectors.DefaultSelector()
        family, addr = args.listen
        self.front = socket.socket(family, socket.SOCK_DGRAM)
        self.front.bind(addr)
        self.front.setblocking(False)
        self.sel.register(self.front, selectors.EVENT_READ, None)
        self.target_family, self.target = args.target
        self.clients = {}       # client address -> (index, upstream socket)
        self.seq = {}           # (direction, client index) -> datagrams seen
        self.held = {}          # (direction, client index) -> [(deadline, send)] held back for reordering
        self.timers = []        # heap of (when, order, send)
        self.order = 0
        self.counts = {d: dict.fromkeys(KINDS, 0) for d in ("up", "down")}
        # Line-buffered: a test waits for a decision in it while the relay runs.
        self.log = open(args.log, "w", encoding="utf-8", buffering=1) if args.log else None
        self.stop = False
        self.released = False   # SIGUSR1 came: everything passes untouched

    def bound(self):
        host, port = self.front.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return {"event": "listening", "addr": f"udp:{shown}:{port}", "port": port}

    def decide(self, direction, client, n):
        # One generator per datagram, seeded from what identifies it: the decisions do not depend
        # on how the two directions interleave.
        key = f"{self.args.seed}/{direction}/{client}/{n}".encode()
        rng = random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))
        a = self.args
        draws = [rng.random() for _ in range(4)]  # always four, in a fixed order
        return {"drop": draws[0] < a.drop, "dup": draws[1] < a.dup,
                "reorder": draws[2] < a.reorder, "delay": draws[3] < a.delay}

    def at(self, when, send):
        self.order += 1
        heapq.heappush(self.timers, (when, self.order, send))

    def release_held(self, flow):
        for _, send in self.held.pop(flow, []):
            send()

    def handle(self, direction, client, data, send):
        c = self.counts[direction]
        c["received"] += 1
        flow = (direction, client)
        n = self.seq.get(flow, 0)
        self.seq[flow] = n + 1
        if self.released or (self.args.match and not self.args.match.search(data)):
            d = dict.fromkeys(("drop", "dup", "reorder", "delay"), False)
        else:
            d = self.decide(direction, client, n)
        if self.log:
            self.log.write(json.dumps({"dir": direction, "client": client, "n": n, **d}) + "\n")
        if d["drop"]:
            c["dropped"] += 1
            return
        copies = 2 if d["dup"] else 1
        c["duplicated"] += copies - 1

        def out():
            for _ in range(copies):
                send(data)
                c["forwarded"] += 1

        def go():
            # What was held back for reordering leaves after this one.
            out()
            if not d["reorder"]:
                self.release_held(flow)

        now = time.monotonic()
        if d["reorder"]:
            c["reordered"] += 1
        if d["delay"]:
            c["delayed"] += 1
        if d["reorder"]:
            deadline = now + (self.args.delay_ms if d["delay"] else 0) / 1000 + self.args.hold_ms / 1000
            self.held.setdefault(flow, []).append((deadline, out))
            self.at(deadline, lambda: self.expire(flow))
        elif d["delay"]:
            self.at(now + self.args.delay_ms / 1000, go)
        else:
            go()

    def expire(self, flow):
        now = time.monotonic()
        keep = []
        for deadline, send in self.held.get(flow, []):
            if deadline <= now:
                send()
            else:
                keep.append((deadline, send))
        if keep:
            self.held[flow] = keep
        else:
            self.held.pop(flow, None)

    def upstream(self, addr):
        if addr not in self.clients:
            if len(self.clients) >= self.args.max_clients:
                return None
            up = socket.socket(self.target_family, socket.SOCK_DGRAM)
            up.bind(("::1" if self.target_family == socket.AF_INET6 else "127.0.0.1", 0))
            up.setblocking(False)
            index = len(self.clients)
            self.clients[addr] = (index, up)
            self.sel.register(up, selectors.EVENT_READ, (index, addr))
        return self.clients[addr]

    @staticmethod
    def sender(sock, addr):
        def send(data):
            try:
                sock.sendto(data, addr)
            except (BlockingIOError, ConnectionRefusedError):
                pass  # as a network would: a full buffer or an absent peer loses the datagram
        return send

    def run(self):
        end = time.monotonic() + self.args.max_seconds
        while not self.stop:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
            if now >= end:
                break
            wait = min(end - now, 0.2)
            if self.timers:
                wait = max(0.0, min(wait, self.timers[0][0] - now))
            for key, _ in self.sel.select(wait):
                sock = key.fileobj
                try:
                    data, addr = sock.recvfrom(65535)
                except (BlockingIOError, ConnectionRefusedError):
                    continue
                if key.data is None:
                    entry = self.upstream(addr)
                    if entry is None:
                        continue
                    index, up = entry
                    self.handle("up", index, data, self.sender(up, self.target))
                else:
                    index, client = key.data
                    self.handle("down", index, data, self.sender(self.front, client))

    def summary(self):
        return {"event": "impair-summary", "clients": len(self.clients), **self.counts}


def main(argv):
    args = parse_args(argv)
    try:
        relay = Relay(args)
    except OSError as e:
        print(f"impair.py: {e}", file=sys.stderr)
        return 3

    def on_signal(signum, frame):
        relay.stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def on_release(signum, frame):
        relay.released = True
        print(json.dumps({"event": "released"}), flush=True)

    signal.signal(signal.SIGUSR1, on_release)
    print(json.dumps(relay.bound()), flush=True)
    relay.run()
    if relay.log:
        relay.log.close()
    print(json.dumps(relay.summary()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
