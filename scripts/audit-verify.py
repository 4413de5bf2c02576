#!/usr/bin/env python3
"""An independent check of a sendplan audit folder, written from docs/audit.md alone.

Recomputes every record hash, tag, chain head and RFC 6962 Merkle root, and compares them with the
manifests and checkpoints. Signatures are not checked here (`sendplan audit verify` does that).
Usage: scripts/audit-verify.py AUDIT_DIR
"""
import hashlib
import json
import os
import sys


def mth(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def main():
    root = os.path.join(sys.argv[1], "streams")
    problems = 0
    for folder in sorted(os.listdir(root)):
        d = os.path.join(root, folder)
        head = json.load(open(os.path.join(d, "head.json")))
        prev = bytes(32)
        leaves = []
        for n in range(1, head["segment"] + 1):
            name = "%08d" % n
            data = open(os.path.join(d, name + ".log"), "rb").read()
            version = 1
            for i, line in enumerate(data.split(b"\n")[:-1]):
                assert line.endswith(b'"}') and line[-16:-10] == b',"h":"', (folder, n, i)
                body = line[:-16] + b"}"
                record = json.loads(body)
                if record["t"] == "segment":
                    # Record format version: 1 has no "v", 2 says so (docs/audit.md).
                    version = record.get("v", 1)
                    if version not in (1, 2) or ("v" in record and version == 1):
                        print(f"{d}/{name}.log:{i + 1}: unknown record format version {version!r}"); problems += 1
                elif "evidence" in record and version < 2:
                    print(f"{d}/{name}.log:{i + 1}: evidence in a version 1 segment"); problems += 1
                if record["t"] == "segment" and record["prev"] != prev.hex():
                    print(f"{d}/{name}.log:{i + 1}: header does not continue the chain"); problems += 1
                h = hashlib.sha256(b"\x00" + body + prev).digest()
                if line[-10:-2].decode() != h.hex()[:8]:
                    print(f"{d}/{name}.log:{i + 1}: tag does not match the record hash"); problems += 1
                if record["n"] != len(leaves):
                    print(f"{d}/{name}.log:{i + 1}: record number {record['n']}, expected {len(leaves)}"); problems += 1
                leaves.append(h)
                prev = h
            m = json.load(open(os.path.join(d, name + ".manifest.json")))
            root_hash = mth(leaves).hex()
            if m["chainHead"] != prev.hex() or m["treeSize"] != len(leaves) or m["merkleRoot"] != root_hash:
                print(f"{d}/{name}.manifest.json: does not match the records"); problems += 1
            cp = open(os.path.join(d, name + ".checkpoint"), encoding="utf-8").read()
            signed = "".join(
                f"{line}\n" for line in [
                    "sendplan-audit-checkpoint/1", "customer " + m["customerId"].encode().hex(),
                    f"segment {n}", f"size {len(leaves)}", "root " + root_hash, "chain " + prev.hex(),
                    "run " + m["runId"], "time " + m["timestamp"]])
            if not cp.startswith(signed + "\n"):
                print(f"{d}/{name}.checkpoint: signed text does not match"); problems += 1
    print(f"audit-verify.py: {problems} problems")
    sys.exit(1 if problems else 0)


main()
