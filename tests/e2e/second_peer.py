#!/usr/bin/env python3
"""A second implementation of kd's terminal (and of an AuC and a proxy facing kd-switch serve),
written from kd-protocol(7) and kd-live(7) alone: it speaks to kd's services over UDP with
--binding json and checks every byte the pages define. It must never import or call kd's code
for the protocol: where it agrees with kd, the pages are a contract two implementations keep.

  second_peer.py selftest
      recompute kd-protocol(7) WORKED EXAMPLE's values from its inputs.
  second_peer.py register --peer udp:HOST:PORT --keys TERM.json --id IDc --via IDsp
      register through kd-proxy serve; retransmit s1 (the answer must be byte for byte the
      same); then replay s7 from another port (no answer may come).
  second_peer.py auc --switch-tool PATH --id IDc --via IDsp --switch IDss --keys AUC.json \
          --switch-keys SS.json
      start kd-switch serve with this program as its AuC (--peer auc=) and its proxy; answer its s3,
      first from another socket (refused), then from the one s3 came to.

Prints one line per check ("ok NAME" or "FAIL NAME: why") and exits 0 only when all passed.
"""
import hashlib
import hmac
import json
import os
import socket
import struct
import subprocess
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# kd-protocol(7) SUITES: name -> (key_len, hash, hash_len, auth_len, mac_len)
SUITES = {
    "KD-AES128GCM-SHA256": (16, hashlib.sha256, 32, 16, 16),
    "KD-AES256GCM-SHA384": (32, hashlib.sha384, 48, 24, 24),
}
FLOW_CODE = {"proxied": 1, "direct": 2}
# kd-protocol(7) CANONICAL ENCODING: tag of each field
TAGS = {"suite": 1, "IDc": 2, "IDsp": 3, "IDss": 4, "N1": 5, "N2": 6, "TS1": 7, "TS2": 8,
        "TS3": 9, "TS4": 10, "Rand": 11, "Authenticator_c": 12, "EKc": 13, "EKsp": 14,
        "EKss": 15, "SecMechReq": 16, "SecMechList": 17, "SecMech": 18, "IPc": 19, "MAC": 20}
HEX_FIELDS = {"N1", "N2", "Rand", "Authenticator_c", "EKc", "EKsp", "EKss", "MAC"}
TS_FIELDS = {"TS1", "TS2", "TS3", "TS4"}
# kd-protocol(7) THE TWO FLOWS: the fields of each step, in tag order
STEP_FIELDS = {
    "s1": "suite IDc IDsp N1 TS1 IPc", "s2": "suite IDc IDsp IPc", "s3": "suite IDc IDsp",
    "s4": "suite IDc IDsp Rand Authenticator_c EKc EKsp", "s5": "suite IDc IDsp Rand",
    "s6": "suite IDc IDsp N1 N2 TS2 Rand SecMechReq",
    "s7": "suite IDc IDsp N1 N2 TS3 Rand Authenticator_c SecMechList IPc",
    "s8": "suite IDc IDsp Rand Authenticator_c IPc", "s9": "suite IDc IDsp EKc EKsp",
    "s10": "suite IDc IDsp N1 N2 TS4 EKc SecMechList SecMech MAC",
    "s11": "suite IDc IDsp Rand IPc",
}
RECEIVER = {"s1": "proxy", "s2": "switch", "s3": "auc", "s4": "switch", "s5": "proxy",
            "s6": "term", "s7": "proxy", "s8": "switch", "s9": "proxy", "s10": "term",
            "s11": "auc"}
SKEW = 300
MECHS = [{"name": "tls", "q": 900}, {"name": "ipsec-3gpp", "q": 500}, {"name": "kd-app", "q": 100}]

failures = []


def check(name, ok, why=""):
    if ok:
        print("ok " + name, flush=True)
    else:
        print("FAIL %s: %s" % (name, why), flush=True)
        failures.append(name)
    return ok


def u8(x):
    return struct.pack(">B", x)


def u16(x):
    return struct.pack(">H", x)


def u64(x):
    return struct.pack(">Q", x)


def lp16(b):
    if isinstance(b, str):
        b = b.encode("ascii")
    return u16(len(b)) + b


def hkdf(hash_fn, salt, ikm, info, length):
    # RFC 5869
    prk = hmac.new(salt, ikm, hash_fn).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hash_fn).digest()
        out += block
        i += 1
    return out[:length]


def derive(suite, ikm, label, length):
    hash_fn = SUITES[suite][1]
    info = b"kd1 " + label.encode() + b"\x00" + suite.encode()
    return hkdf(hash_fn, b"kd1", ikm, info, length)


def verification_word(suite, kc, rand, idc):
    _, hash_fn, hash_len, auth_len, _ = SUITES[suite]
    k = derive(suite, kc, "auth", hash_len)
    return hmac.new(k, lp16(rand) + lp16(idc), hash_fn).digest()[:auth_len]


def seal_aad(suite, flow, idc, peer, rand, recipient):
    return (b"kd1 seal\x00" + lp16(suite) + u8(FLOW_CODE[flow]) + lp16(idc) + lp16(peer)
            + lp16(rand) + lp16(recipient))


def seal(suite, klt, k, nonce, flow, idc, peer, rand, recipient):
    key = derive(suite, klt, "seal", SUITES[suite][0])
    return nonce + AESGCM(key).encrypt(nonce, k, seal_aad(suite, flow, idc, peer, rand, recipient))


def open_sealed(suite, klt, sealed, flow, idc, peer, rand, recipient):
    key = derive(suite, klt, "seal", SUITES[suite][0])
    return AESGCM(key).decrypt(sealed[:12], sealed[12:],
                               seal_aad(suite, flow, idc, peer, rand, recipient))


def canonical(msg, without_mac=False):
    step = msg["step"]
    out = b"KD1" + u8(FLOW_CODE[msg["flow"]]) + u8(int(step[1:]))
    for name in STEP_FIELDS[step].split():
        if name == "MAC" and without_mac:
            continue
        v = msg[name]
        if name in HEX_FIELDS:
            b = bytes.fromhex(v)
        elif name in TS_FIELDS:
            b = u64(v)
        elif name == "SecMechReq":
            b = b"\x01"
        elif name == "SecMechList":
            b = b"".join(u8(len(e["name"])) + e["name"].encode() + u16(e["q"]) for e in v)
        else:
            b = v.encode("ascii")
        out += u8(TAGS[name]) + lp16(b)
    return out


def message_mac(suite, k, msg):
    _, hash_fn, hash_len, _, mac_len = SUITES[suite]
    km = derive(suite, k, "mac", hash_len)
    return hmac.new(km, canonical(msg, without_mac=True), hash_fn).digest()[:mac_len]


def encode(msg):
    """kd-protocol(7) Output form: step, flow, to, the fields in tag order; txn is not a field
    (its place is not given; kd reads members in any order)."""
    out = {"step": msg["step"], "flow": msg["flow"], "to": RECEIVER[msg["step"]]}
    for name in STEP_FIELDS[msg["step"]].split():
        out[name] = msg[name]
    if "txn" in msg:
        out["txn"] = msg["txn"]
    return json.dumps(out, separators=(",", ":")).encode("ascii")


def endpoint(text):
    kind, rest = text.split(":", 1)
    host, port = rest.rsplit(":", 1)
    assert kind == "udp", text
    return host.strip("[]"), int(port)


def keystore(path):
    with open(path) as f:
        ks = json.load(f)
    assert ks["kd_keystore"] == 1
    return {e["id"]: bytes.fromhex(e["key"]) for e in ks["entities"]}


def txn():
    return os.urandom(8).hex()


def receive(sock, timeout):
    sock.settimeout(timeout)
    try:
        data, addr = sock.recvfrom(65536)
        return data, addr
    except socket.timeout:
        return None, None


def well_formed(name, data, step, expect_txn):
    """An answer as kd-protocol(7) JSON FORM says a role writes it."""
    msg = json.loads(data)
    keys = list(msg)
    fields = STEP_FIELDS[step].split()
    order = ["step", "flow", "to"] + fields
    check(name + " is " + step, msg.get("step") == step and msg.get("flow") == "proxied"
          and msg.get("to") == RECEIVER[step], data)
    check(name + " has the step's fields in tag order",
          [k for k in keys if k != "txn"] == order, "members %s" % keys)
    check(name + " echoes the request's txn", msg.get("txn") == expect_txn,
          "txn %r, sent %r" % (msg.get("txn"), expect_txn))
    check(name + " is compact JSON", data == json.dumps(msg, separators=(",", ":")).encode(),
          data)
    return msg


# ----------------------------------------------------------------------------------------------
def selftest():
    """kd-protocol(7) WORKED EXAMPLE, recomputed from the page's inputs."""
    suite = "KD-AES128GCM-SHA256"
    # Keystore: the seeded stream of alice's long-term key
    info = (b"kd1 rng\x00" + lp16("keystore") + lp16("alice") + hashlib.sha256(b"term").digest()
            + lp16("long-term-key"))
    key = hkdf(hashlib.sha256, b"", bytes([1]), info, 32)
    kc = hmac.new(key, u64(0), hashlib.sha256).digest()
    check("worked example Kc", kc.hex() ==
          "18ac85711f1683b98892aef0cf49cce3384a773783545d4ef11fb782b15363be", kc.hex())
    rand = bytes.fromhex("14dcac2cadd70594d357eb75ac6c0b3a")
    auth = verification_word(suite, kc, rand, "alice")
    check("worked example Authenticator_c", auth.hex() == "e96616628ca687a4d72a4c3f68ffafb0",
          auth.hex())
    k = bytes.fromhex("9404301a4f874d88bf58c51012285426")
    ekc = seal(suite, kc, k, bytes.fromhex("1068d0559af3e99ea1fd1ac6"), "proxied", "alice",
               "sbc1", rand, "term")
    check("worked example EKc", ekc.hex() == "1068d0559af3e99ea1fd1ac6a902514c6fec66afd8f4b8b3"
          "820e08cd447804c24322c30bcdbb9ea2b1454af9", ekc.hex())
    s10 = {"step": "s10", "flow": "proxied", "suite": suite, "IDc": "alice", "IDsp": "sbc1",
           "N1": "d13247d69bc0743cf6e417b1f35235a4", "N2": "9d9eb6951368b60120a04c5828f1946a",
           "TS4": 1700000000, "EKc": ekc.hex(), "SecMechList": MECHS, "SecMech": "tls"}
    mac = message_mac(suite, k, s10)
    check("worked example MAC", mac.hex() == "3c3850977ae3059f3562de3891928eea", mac.hex())
    s3 = {"step": "s3", "flow": "proxied", "suite": suite, "IDc": "alice", "IDsp": "sbc1"}
    check("worked example canonical(s3)", canonical(s3).hex() ==
          "4b443101030100134b442d41455331323847434d2d534841323536020005616c69636503000473626331",
          canonical(s3).hex())


# ----------------------------------------------------------------------------------------------
def register(args):
    suite = args.get("suite", "KD-AES128GCM-SHA256")
    idc, idsp = args["id"], args["via"]
    kc = keystore(args["keys"])[idc]
    proxy = endpoint(args["peer"])
    wait = float(args.get("wait", "5"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    contact = "127.0.0.1:%d" % sock.getsockname()[1]

    n1 = os.urandom(16)
    s1 = {"step": "s1", "flow": "proxied", "suite": suite, "IDc": idc, "IDsp": idsp,
          "N1": n1.hex(), "TS1": int(time.time()), "IPc": contact, "txn": txn()}
    s1_bytes = encode(s1)
    sock.sendto(s1_bytes, proxy)
    first, addr = receive(sock, wait)
    if not check("s6 arrives", first is not None, "no answer to s1 in %ss" % wait):
        return
    check("s6 comes from the address s1 went to", addr == proxy, "%s, not %s" % (addr, proxy))
    # The answer is "lost": send s1 again, the same bytes from the same address.
    sock.sendto(s1_bytes, proxy)
    again, _ = receive(sock, wait)
    check("a retransmitted s1 is answered", again is not None, "no answer to the copy")
    check("the retransmission's answer is byte for byte the first", again == first,
          "%r\n  != %r" % (again, first))

    s6 = well_formed("s6", first, "s6", s1["txn"])
    now = int(time.time())
    check("s6 names this registration", s6["IDc"] == idc and s6["IDsp"] == idsp
          and s6["suite"] == suite, first)
    check("s6 echoes N1", s6["N1"] == n1.hex(), s6["N1"])
    check("s6 TS2 in the window", abs(s6["TS2"] - now) <= SKEW, s6["TS2"])
    check("s6 SecMechReq is true", s6["SecMechReq"] is True, s6["SecMechReq"])
    rand = bytes.fromhex(s6["Rand"])
    check("s6 Rand is 16 bytes", len(rand) == 16, s6["Rand"])
    check("s6 N2 is 16 bytes", len(bytes.fromhex(s6["N2"])) == 16, s6["N2"])

    n1b = os.urandom(16)
    s7 = {"step": "s7", "flow": "proxied", "suite": suite, "IDc": idc, "IDsp": idsp,
          "N1": n1b.hex(), "N2": s6["N2"], "TS3": int(time.time()), "Rand": s6["Rand"],
          "Authenticator_c": verification_word(suite, kc, rand, idc).hex(),
          "SecMechList": MECHS, "IPc": contact, "txn": txn()}
    s7_bytes = encode(s7)
    sock.sendto(s7_bytes, proxy)
    data, _ = receive(sock, wait)
    if not check("s10 arrives", data is not None, "no answer to s7 in %ss" % wait):
        return
    s10 = well_formed("s10", data, "s10", s7["txn"])
    check("s10 echoes N1'", s10["N1"] == n1b.hex(), s10["N1"])
    check("s10 N2' is fresh", s10["N2"] != s6["N2"], s10["N2"])
    check("s10 TS4 in the window", abs(s10["TS4"] - int(time.time())) <= SKEW, s10["TS4"])
    ekc = bytes.fromhex(s10["EKc"])
    check("EKc is 12 + key_len + 16 bytes", len(ekc) == 12 + SUITES[suite][0] + 16, len(ekc))
    try:
        k = open_sealed(suite, kc, ekc, "proxied", idc, idsp, rand, "term")
        check("EKc opens under Kc with recipient term", True)
    except Exception as e:  # cryptography's InvalidTag
        check("EKc opens under Kc with recipient term", False, repr(e))
        return
    mac = message_mac(suite, k, s10)
    check("s10 MAC verifies under K", hmac.compare_digest(mac.hex(), s10["MAC"]),
          "%s, computed %s" % (s10["MAC"], mac.hex()))
    check("s10 SecMechList is the list sent", s10["SecMechList"] == MECHS, s10["SecMechList"])
    check("s10 SecMech was offered with q > 0",
          any(e["name"] == s10["SecMech"] and e["q"] > 0 for e in MECHS), s10["SecMech"])
    print("registered %s SecMech %s session_key %s" % (idc, s10["SecMech"], k.hex()),
          flush=True)

    # kd-live(7) TRANSACTIONS: the same bytes from another address are a new request, which the
    # protocol's own checks refuse; kd's bindings have no failure message, so nothing comes.
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    other.sendto(s7_bytes, proxy)
    replay, _ = receive(other, float(args.get("quiet", "1.5")))
    check("a replay of s7 from another port gets no answer", replay is None, replay)
    # ... while from the first address it is still a retransmission, answered from the cache.
    sock.sendto(s7_bytes, proxy)
    again, _ = receive(sock, wait)
    check("s7 again from its own address gets s10 again, byte for byte", again == data, again)


# ----------------------------------------------------------------------------------------------
def auc(args):
    suite = args.get("suite", "KD-AES128GCM-SHA256")
    idc, idsp, idss = args["id"], args["via"], args["switch"]
    keys = keystore(args["keys"])
    wait = float(args.get("wait", "5"))
    auc_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    auc_sock.bind(("127.0.0.1", 0))
    px_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    px_sock.bind(("127.0.0.1", 0))
    # under timeout(1): a peer killed by its own timeout leaves no switch behind
    cmd = ["timeout", "60", args["switch-tool"], "serve", "--id", idss, "--keys", args["switch-keys"],
           "--listen", "udp:127.0.0.1:0",
           "--peer", "auc=udp:127.0.0.1:%d" % auc_sock.getsockname()[1]]
    sw = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = sw.stdout.readline()
        listening = json.loads(line)
        check("the switch prints its listening line", listening.get("event") == "listening"
              and listening.get("role") == "switch" and listening.get("binding") == "json", line)
        switch = endpoint(listening["addr"])
        contact = "127.0.0.1:5060"

        s2 = {"step": "s2", "flow": "proxied", "suite": suite, "IDc": idc, "IDsp": idsp,
              "IPc": contact, "txn": txn()}
        px_sock.sendto(encode(s2), switch)
        data, sw_addr = receive(auc_sock, wait)
        if not check("s3 arrives at the AuC peer", data is not None, "nothing in %ss" % wait):
            return
        s3 = json.loads(data)
        check("s3 is s3 with its fields", [k for k in s3 if k != "txn"] ==
              ["step", "flow", "to"] + STEP_FIELDS["s3"].split()
              and s3["step"] == "s3" and s3["to"] == "auc", data)
        check("s3 names the registration", s3["IDc"] == idc and s3["IDsp"] == idsp
              and s3["suite"] == suite, data)
        check("s3 carries a txn of its own", isinstance(s3.get("txn"), str)
              and s3.get("txn") != s2["txn"], data)

        rand, k = os.urandom(16), os.urandom(SUITES[suite][0])
        s4 = {"step": "s4", "flow": "proxied", "suite": suite, "IDc": idc, "IDsp": idsp,
              "Rand": rand.hex(),
              "Authenticator_c": verification_word(suite, keys[idc], rand, idc).hex(),
              "EKc": seal(suite, keys[idc], k, os.urandom(12), "proxied", idc, idsp, rand,
                          "term").hex(),
              "EKsp": seal(suite, keys[idsp], k, os.urandom(12), "proxied", idc, idsp, rand,
                           "proxy").hex(),
              "txn": s3["txn"]}
        # kd-live(7) TRANSACTIONS, "Where an answer comes from": an answer from another address
        # than the one the request went to is refused (an error line), and s3 waits on for the
        # AuC's own answer.
        stray = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stray.bind(("127.0.0.1", 0))
        stray.sendto(encode(s4), sw_addr)
        auc_sock.sendto(encode(s4), sw_addr)
        data, _ = receive(px_sock, wait)
        if not check("s5 arrives at the proxy peer", data is not None, "nothing"):
            return
        s5 = well_formed("s5", data, "s5", s2["txn"])
        check("s5 carries the AuC's Rand", s5["Rand"] == rand.hex(), data)

        s8 = {"step": "s8", "flow": "proxied", "suite": suite, "IDc": idc, "IDsp": idsp,
              "Rand": rand.hex(), "Authenticator_c": s4["Authenticator_c"], "IPc": contact,
              "txn": txn()}
        px_sock.sendto(encode(s8), switch)
        data, _ = receive(px_sock, wait)
        if not check("s9 arrives at the proxy peer", data is not None, "nothing"):
            return
        s9 = well_formed("s9", data, "s9", s8["txn"])
        got = open_sealed(suite, keys[idsp], bytes.fromhex(s9["EKsp"]), "proxied", idc, idsp,
                          rand, "proxy")
        check("EKsp of s9 opens to the AuC's K", got == k, got.hex())
        data, _ = receive(auc_sock, wait)
        if check("s11 arrives at the AuC peer", data is not None, "nothing"):
            s11 = json.loads(data)
            check("s11 reports the Rand and the IPc of s8", s11.get("step") == "s11"
                  and s11["Rand"] == rand.hex() and s11["IPc"] == contact, data)
        # kd-live(7) Client side: s11 over a JSON AuC link is sent once, unanswered.
        data, _ = receive(auc_sock, float(args.get("quiet", "1.5")))
        check("s11 is sent once", data is None, data)
    finally:
        sw.terminate()
        rc = sw.wait(timeout=10)
        check("the switch stops with status 0 on SIGTERM", rc == 0, rc)
        errors = [json.loads(l) for l in sw.stdout.read().splitlines() if '"event":"error"' in l]
        check("the switch refused the s4 from another address, and nothing else",
              len(errors) == 1 and errors[0].get("code") == "unexpected_message"
              and errors[0].get("step") == "s4" and "not from where" in errors[0].get("detail", ""),
              errors)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    mode, rest = argv[0], argv[1:]
    args = {}
    for i in range(0, len(rest), 2):
        args[rest[i].lstrip("-")] = rest[i + 1]
    if mode == "selftest":
        selftest()
    elif mode == "register":
        register(args)
    elif mode == "auc":
        auc(args)
    else:
        print("second_peer.py: unknown mode " + mode, file=sys.stderr)
        return 2
    if failures:
        print("%d check(s) failed: %s" % (len(failures), ", ".join(failures)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
