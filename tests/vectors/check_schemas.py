#!/usr/bin/env python3
"""Validates every file of testvectors/positive and testvectors/negative against its JSON Schema
in testvectors/schemas, checks that each schema is itself a valid draft-07 schema, and checks the
captures of testvectors/pcap against the positive vectors that name them."""
import json
import pathlib
import sys

import jsonschema

root = pathlib.Path(sys.argv[1])
schemas = {p.name: json.loads(p.read_text()) for p in (root / "schemas").glob("*.schema.json")}
for name, schema in schemas.items():
    jsonschema.Draft7Validator.check_schema(schema)
passed = failed = 0
for path in sorted((root / "positive").glob("*.json")) + sorted((root / "negative").glob("*.json")):
    doc = json.loads(path.read_text())
    schema = schemas.get(doc.get("schema", ""))
    if schema is None:
        print(f"FAIL {path.name}: names no known schema ({doc.get('schema')!r})")
        failed += 1
        continue
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        failed += 1
        for e in errors[:5]:
            print(f"FAIL {path.name}: {'/'.join(map(str, e.path))}: {e.message[:200]}")
    else:
        passed += 1
        print(f"ok   {path.name}")
# Every capture a positive vector names exists and is a classic pcap of link type Ethernet, and every
# capture in testvectors/pcap is named by exactly one vector.
named = {}
for path in sorted((root / "positive").glob("*.json")):
    doc = json.loads(path.read_text())
    if "pcap" in doc:
        named.setdefault(doc["pcap"], []).append(path.name)
for name, users in sorted(named.items()):
    pcap = root / "pcap" / name
    head = pcap.read_bytes()[:24] if pcap.exists() else b""
    magic_ok = head[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
    link = int.from_bytes(head[20:24], "little" if head[:1] == b"\xd4" else "big") if len(head) == 24 else -1
    if len(users) != 1 or not magic_ok or link != 1:
        failed += 1
        print(f"FAIL pcap/{name}: named by {users}, exists {pcap.exists()}, classic pcap {magic_ok}, link type {link}")
    else:
        passed += 1
        print(f"ok   pcap/{name}")
for pcap in sorted((root / "pcap").glob("*")) if (root / "pcap").exists() else []:
    if pcap.name not in named:
        failed += 1
        print(f"FAIL pcap/{pcap.name}: no positive vector names it")
if passed == 0:
    print("FAIL no vector files found")
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
