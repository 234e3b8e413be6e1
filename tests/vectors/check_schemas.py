#!/usr/bin/env python3
"""Validates every file of testvectors/positive and testvectors/negative against its JSON Schema
in testvectors/schemas, and checks that each schema is itself a valid draft-07 schema."""
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
if passed == 0:
    print("FAIL no vector files found")
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
