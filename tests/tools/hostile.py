#!/usr/bin/env python3
"""Sends a seeded corpus of hostile datagrams or stream segments to a kd service (a test helper).

Every item is made from a valid message of the conformance vectors (testvectors/positive) of the
binding: cut at a random place, bits flipped, control bytes or an escape sequence inserted, bytes
dropped, digits inflated, repeated, or plain random bytes; plus an empty datagram and one of 65000
bytes. The same seed gives the same corpus.

usage: hostile.py ENDPOINT BINDING VECTOR-DIR COUNT SEED
  ENDPOINT  udp:HOST:PORT or tcp:HOST:PORT (over TCP: COUNT/20 connections of 20 segments each)
  BINDING   json, sip, mgcp, h248, h323 or radius (the AuC link messages of the SIP vectors)
Prints how many items it sent.
"""
import glob
import json
import random
import socket
import sys


def corpus(binding, vecdir):
    files = glob.glob("%s/positive/*-%s.json" % (vecdir, "sip" if binding == "radius" else binding))
    out = []
    for f in sorted(files):
        for t in json.load(open(f))["transcript"]:
            if t.get("binding") == binding and "wire" in t:
                out.append(bytes.fromhex(t["wire"]))
            elif binding == "json" and "message" in t:
                out.append(json.dumps(t["message"]).encode())
    if not out:
        sys.exit("hostile.py: no %s message in %s" % (binding, vecdir))
    return out


def mutate(rng, w):
    b = bytearray(w)
    k = rng.randrange(9)
    at = rng.randrange(len(b) + 1)
    if k == 0:
        return bytes(b[:at])
    if k == 1:
        for _ in range(rng.randrange(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if k == 2:
        c = rng.choice([0x00, 0x1B, 0x7F, 0x9B, 0xFF, 0x0A, 0x0D, 0x22, 0x5C])
        return bytes(b[:at]) + bytes([c]) * rng.randrange(1, 50) + bytes(b[at:])
    if k == 3:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 2000)))
    if k == 4:
        return bytes(b) * rng.randrange(2, 40)
    if k == 5:
        return bytes(b[:at]) + b"\x1b[31m\xc2\x9b2J" + bytes(b[at:])
    if k == 6:
        return bytes(b[:at]) + bytes(b[rng.randrange(len(b) + 1):])
    if k == 7:
        return bytes(b[:at]) + b"9" * rng.randrange(1, 400) + bytes(b[at:])
    return bytes(b[:at]) + bytes(b)


def main():
    endpoint, binding, vecdir, count, seed = sys.argv[1:6]
    proto, rest = endpoint.split(":", 1)
    host, port = rest.rsplit(":", 1)
    host, port, count = host.strip("[]"), int(port), int(count)
    rng = random.Random(int(seed))
    wires = corpus(binding, vecdir)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sent = 0
    if proto == "udp":
        s = socket.socket(family, socket.SOCK_DGRAM)
        items = [mutate(rng, rng.choice(wires))[:65000] for _ in range(count)] + [b"", b"\xff" * 65000]
        for d in items:
            s.sendto(d, (host, port))
            sent += 1
    else:
        for _ in range(max(1, count // 20)):
            try:
                with socket.create_connection((host, port), timeout=2) as s:
                    for _ in range(20):
                        s.sendall(mutate(rng, rng.choice(wires)))
                        sent += 1
            except OSError:
                pass  # the service closed a connection it could not frame: expected
    print(sent)


if __name__ == "__main__":
    main()
