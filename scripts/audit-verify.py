#!/usr/bin/env python3
"""An independent check of a sendplan audit folder, written from docs/audit.md alone.

Recomputes every record hash, tag, chain head and RFC 6962 Merkle root, and compares them with the
manifests and checkpoints, in both checkpoint forms (the C2SP signed note, and the legacy form of
streams written before it). Signatures are not checked here (`sendplan audit verify` does that, and
CI opens every note with Go's sumdb/note); the note key hash of each signature line is.
Usage: scripts/audit-verify.py AUDIT_DIR
"""
import base64
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


def escape(s):
    """The checkpoint's percent-escaping: everything but ASCII letters, digits and -._~."""
    keep = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
    return "".join(chr(b) if b in keep else "%%%02X" % b for b in s.encode())


def check_note(cp, m, n, size, root_hash, chain):
    """Problems with a note-form checkpoint: the text, then each signature line's form."""
    text = "".join(f"{line}\n" for line in [
        "sendplan.audit/" + escape(m["customerId"]), str(size), base64.b64encode(bytes.fromhex(root_hash)).decode(),
        f"segment {n}", "chain " + chain, "run " + escape(m["runId"]), "time " + m["timestamp"]])
    if not cp.startswith(text):
        return ["the note text does not match the records"]
    rest = cp[len(text):]
    vkey = None
    if rest.startswith("key "):
        line, rest = rest.split("\n", 1)
        vkey = line[4:]
    if not rest.startswith("\n"):
        return ["the note text has unexpected lines"]
    sigs = rest[1:].split("\n")
    if sigs[-1] != "":
        return ["the signature block does not end in a newline"]
    problems = []
    if vkey is None:
        return [] if sigs == [""] else ["an unsigned checkpoint carries signatures"]
    name, key_hash, key = vkey.split("+", 2)
    raw = base64.b64decode(key)
    if raw[0] != 1 or len(raw) != 33 or hashlib.sha256(name.encode() + b"\n" + raw).hexdigest()[:8] != key_hash:
        problems.append("the key line is not an Ed25519 note verifier key with a correct hash")
    found = False
    for line in sigs[:-1]:
        if not line.startswith("\u2014 "):
            problems.append("a signature line does not start with an em dash")
            continue
        sig_name, b64 = line[2:].split(" ")
        sig = base64.b64decode(b64)
        if sig_name == name and sig[:4].hex() == key_hash:
            found = found or len(sig) == 68
    if not found:
        problems.append("no signature line of the key named in the checkpoint")
    return problems


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
            if not cp.startswith("sendplan-audit-checkpoint/1\n"):
                for p in check_note(cp, m, n, len(leaves), root_hash, prev.hex()):
                    print(f"{d}/{name}.checkpoint: {p}"); problems += 1
                continue
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
