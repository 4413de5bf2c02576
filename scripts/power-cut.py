#!/usr/bin/env python3
"""Power-loss test of `sendplan run --audit-dir`: builds the states a power cut could leave and checks each.

Run by `scripts/crash-test --power-loss`. After SQLite's crash-simulating VFS (test6.c): a run records
every file-system effect (`--debug-fs-journal`, written by SendplanFileSystem's CrashJournal), this
script replays the journal into a model file system, and after every step k of the journal it builds
the images a power cut at that moment could leave:

  durable       only what was synced survives: file data as of its last fsync (or syncfs), directory
                entries as of their directory's last fsync (renames, creates, unlinks after it revert)
  torn          durable entries; each write since the file's last sync survives or not per 512-byte
                sector (seeded), each truncate survives or not
  entries       every directory entry survives (as a journaling file system may keep them), but file
                data only as of its last sync: the zero-length-file-after-rename case
  entries-torn  every directory entry survives, unsynced data torn per sector

Each distinct image is written to a folder and checked:
  - before any recovery: `audit verify` reports nothing but an unsealed segment of the interrupted run;
    every committed event (see docs/audit.md) is sealed in the image, none twice, none unknown;
    OUT is the previous OUT (or absent) or the complete new one, and the new one once published;
  - then the same run is re-run: it exits 0, `audit verify` passes, every event of an uninterrupted
    run is there exactly once, and OUT equals an uninterrupted run's.
Event ids are recomputed from the segment files following docs/audit.md, as scripts/crash-test does.
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys

SECTOR = 512
RULES = ["durable", "torn", "entries", "entries-torn"]
AS_OF = {"crash-0": "2026-11-26T02:00:00Z", "crash-1": "2026-11-27T02:00:00Z"}
# Problems `audit verify` may report on an image before the re-run, all left by the interrupted run:
# its unsealed segment; seal files of its next segment beside a pending head.json.tmp, written before
# the background writer created that segment; and a stream folder not yet committed once whose
# stream.json was lost (recovery writes it again; docs/audit.md).
ALLOWED_BEFORE = {"segment_unsealed", "segment_uncommitted_pending", "stream_identity_missing_uncommitted"}


# ---------------------------------------------------------------- model file system

class Node:
    __slots__ = ("id", "dir", "cur", "dur", "curv", "durv", "pending")

    def __init__(self, nid, is_dir, content=None):
        self.id = nid
        self.dir = is_dir
        if is_dir:
            self.cur = dict(content or {})
            self.dur = dict(self.cur)
        else:
            self.cur = bytearray(content or b"")
            self.dur = bytes(self.cur)
        self.curv = 0
        self.durv = 0
        self.pending = []  # file ops since the last sync: ("w", off, bytes) or ("t", size)

    def sync(self):
        if self.dir:
            self.dur = dict(self.cur)
        else:
            self.dur = bytes(self.cur)
            self.pending = []
        self.durv += 1


class Model:
    def __init__(self, base):
        self.nodes = []
        self.by_ino = {}
        self.root = self._load(base)

    def new(self, is_dir, content=None):
        n = Node(len(self.nodes), is_dir, content)
        self.nodes.append(n)
        return n

    def _load(self, path):
        if os.path.isdir(path) and not os.path.islink(path):
            entries = {}
            for name in sorted(os.listdir(path)):
                entries[name] = self._load(os.path.join(path, name)).id
            return self.new(True, entries)
        with open(path, "rb") as f:
            return self.new(False, f.read())

    def lookup(self, rel):
        node = self.root
        for part in [p for p in rel.split("/") if p]:
            if not node.dir or part not in node.cur:
                return None
            node = self.nodes[node.cur[part]]
        return node

    def parent(self, rel):
        rel = rel.strip("/")
        head, _, name = rel.rpartition("/")
        p = self.lookup(head)
        if p is None or not p.dir:
            raise RuntimeError("no parent folder for %s" % rel)
        return p, name

    def node_for(self, op, rel):
        n = self.by_ino.get(op.get("ino"))
        if n is None:
            n = self.lookup(rel)
            if n is None:
                raise RuntimeError("journal names %s, which the model does not hold" % rel)
            self.by_ino[op.get("ino")] = n
        return n

    def apply(self, op, rel, data):
        kind = op["op"]
        if kind == "open":
            p, name = self.parent(rel)
            if name in p.cur:
                n = self.nodes[p.cur[name]]
                if op["trunc"] and not n.dir:
                    self._truncate(n, 0)
            elif op["create"]:
                n = self.new(False)
                p.cur[name] = n.id
                p.curv += 1
            else:
                raise RuntimeError("open of a missing file %s" % rel)
            self.by_ino[op["ino"]] = n
        elif kind == "write":
            n = self.node_for(op, rel)
            off, buf = op["off"], data(op["at"], op["len"])
            if len(n.cur) < off:
                n.cur.extend(bytes(off - len(n.cur)))
            n.cur[off:off + len(buf)] = buf
            n.pending.append(("w", off, buf))
            n.curv += 1
        elif kind == "truncate":
            self._truncate(self.node_for(op, rel), op["size"])
        elif kind in ("fsync", "fdatasync"):
            self.node_for(op, rel).sync()
        elif kind == "syncfs":
            for n in self.nodes:
                if n.dir or n.pending or n.dur != n.cur:
                    n.sync()
        elif kind == "mkdir":
            p, name = self.parent(rel)
            n = self.new(True)
            p.cur[name] = n.id
            p.curv += 1
            self.by_ino[op["ino"]] = n
        elif kind in ("unlink", "rmdir"):
            p, name = self.parent(rel)
            del p.cur[name]
            p.curv += 1
        else:
            raise RuntimeError("unknown journal entry %r" % op)

    def rename(self, a, b):
        pa, na = self.parent(a)
        pb, nb = self.parent(b)
        pb.cur[nb] = pa.cur.pop(na)
        pa.curv += 1
        pb.curv += 1

    def exchange(self, a, b):
        pa, na = self.parent(a)
        pb, nb = self.parent(b)
        pa.cur[na], pb.cur[nb] = pb.cur[nb], pa.cur[na]
        pa.curv += 1
        pb.curv += 1

    def _truncate(self, n, size):
        if len(n.cur) > size:
            del n.cur[size:]
        else:
            n.cur.extend(bytes(size - len(n.cur)))
        n.pending.append(("t", size))
        n.curv += 1

    # ------------------------------------------------ images

    def walk(self, rule):
        """(relative path, node) of every file and folder an image under `rule` holds, parents first."""
        entries_kept = rule.startswith("entries")
        out = []
        stack = [("", self.root)]
        while stack:
            rel, n = stack.pop()
            out.append((rel, n))
            if n.dir:
                names = n.cur if entries_kept else n.dur
                for name in sorted(names, reverse=True):
                    stack.append((rel + "/" + name if rel else name, self.nodes[names[name]]))
        return out

    def signature(self, rule, seed):
        torn = rule.endswith("torn")
        sig = []
        for rel, n in self.walk(rule):
            if n.dir:
                sig.append((rel, "d"))
            elif torn and n.pending:
                sig.append((rel, n.id, n.durv, len(n.pending), seed))
            else:
                sig.append((rel, n.id, n.durv))
        return hashlib.sha256(repr(sig).encode()).hexdigest()

    def content(self, n, rule, seed):
        if not rule.endswith("torn") or not n.pending:
            return n.dur
        rng = random.Random("%d-%d-%d-%d" % (seed, n.id, n.durv, len(n.pending)))
        data = bytearray(n.dur)
        for op in n.pending:
            if op[0] == "t":
                if rng.random() < 0.5:
                    size = op[1]
                    if len(data) > size:
                        del data[size:]
                    else:
                        data.extend(bytes(size - len(data)))
                continue
            _, off, buf = op
            for s in range(off // SECTOR, (off + len(buf) - 1) // SECTOR + 1):
                lo, hi = max(off, s * SECTOR), min(off + len(buf), (s + 1) * SECTOR)
                if rng.random() < 0.5:
                    if len(data) < lo:
                        data.extend(bytes(lo - len(data)))
                    data[lo:hi] = buf[lo - off:hi - off]
        return bytes(data)

    def write_image(self, dest, rule, seed):
        for rel, n in self.walk(rule):
            path = os.path.join(dest, rel) if rel else dest
            if n.dir:
                os.makedirs(path, exist_ok=True)
            else:
                with open(path, "wb") as f:
                    f.write(self.content(n, rule, seed))


def read_journal(path, live):
    ops = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            ops.append(json.loads(line))
    data = open(path + ".data", "rb").read()
    prefix = live.rstrip("/") + "/"

    def rel(p):
        if p == live.rstrip("/"):
            return ""
        return p[len(prefix):] if p.startswith(prefix) else None

    return ops, (lambda at, n: data[at:at + n]), rel


# ---------------------------------------------------------------- checks

def entry_id(parts):
    b = b"sendplan-audit-id/1"
    for p in parts:
        u = p.encode()
        b += len(u).to_bytes(4, "big") + u
    return hashlib.sha256(b).hexdigest()[:32]


def sealed_ids(audit):
    """Event ids in the segments head.json names as sealed, in every stream; raises on unreadable files."""
    ids = []
    root = os.path.join(audit, "streams")
    if not os.path.isdir(root):
        return ids
    for folder in sorted(os.listdir(root)):
        d = os.path.join(root, folder)
        hp = os.path.join(d, "head.json")
        if not os.path.exists(hp):
            continue
        head = json.load(open(hp))
        for n in range(1, head["segment"] + 1):
            header = None
            for line in open(os.path.join(d, "%08d.log" % n), encoding="utf-8"):
                r = json.loads(line)
                if r["t"] == "segment":
                    header = r
                    continue
                step = str(r["s"]) if "s" in r else ""
                ids.append(entry_id([header["customerId"], header["runId"], r["e"], r["t"], step, r.get("r", "")]))
    return ids


def pending_head(stream):
    """Whether head.json.tmp is a pending commit (docs/audit.md): unreadable, or naming a later segment."""
    try:
        tmp = json.load(open(os.path.join(stream, "head.json.tmp")))
    except OSError:
        return False
    except ValueError:
        return True
    try:
        committed = json.load(open(os.path.join(stream, "head.json")))["segment"]
    except (OSError, ValueError, KeyError):
        committed = 0
    return not isinstance(tmp, dict) or tmp.get("segment", 0) > committed


def tree_digest(path):
    if not os.path.isdir(path):
        return None
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            h.update(os.path.relpath(full, path).encode() + b"\0")
            h.update(hashlib.sha256(open(full, "rb").read()).digest())
    return h.hexdigest()


class Runner:
    def __init__(self, binary, bundle):
        self.bin = binary
        self.bundle = bundle

    def run(self, root, run_id, *extra):
        return subprocess.run(
            [self.bin, "run", "--input", self.bundle, "--out", os.path.join(root, "out"), "--as-of", AS_OF[run_id],
             "--run-id", run_id, "--audit-dir", os.path.join(root, "audit"), "--quiet", *extra],
            capture_output=True, text=True)

    def verify(self, root):
        r = subprocess.run([self.bin, "audit", "verify", "--audit-dir", os.path.join(root, "audit")],
                           capture_output=True, text=True)
        codes = []
        for path, code in re.findall(r"^FAIL (.*?): .* \[([a-z_]+)\] \(customer", r.stdout, re.M):
            stream = os.path.dirname(path)
            if code == "stream_identity_missing" and not os.path.exists(os.path.join(stream, "head.json")):
                code = "stream_identity_missing_uncommitted"
            if code == "segment_uncommitted" and pending_head(stream):
                code = "segment_uncommitted_pending"
            codes.append(code)
        return r.returncode, codes, r.stdout + r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--scenario", action="append", choices=["first", "second"], help="default: both")
    ap.add_argument("--rules", default=",".join(RULES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-states", type=int, default=0, help="check at most this many states per scenario, "
                    "spread over the run (0: all)")
    ap.add_argument("--skip-sync", default=None,
                    help="leave out one sync: a number, or 'commit' (the audit commit's last syncfs) or "
                         "'publish' (the last folder fsync of OUT's publish); the test must then fail")
    ap.add_argument("--expect-loss", action="store_true",
                    help="with --skip-sync: succeed only if the test reports a loss (it must catch the missing sync)")
    args = ap.parse_args()
    rules = args.rules.split(",")
    runner = Runner(args.bin, args.bundle)
    totals = dict(states=0, steps=0, lost=0, duplicated=0, unknown=0, verify=0, rerun=0, out=0)
    for scenario in args.scenario or ["first", "second"]:
        check_scenario(scenario, runner, args, rules, totals)
    print("crash-test --power-loss: %(states)d power-cut states over %(steps)d durability steps, "
          "%(lost)d committed events lost, %(duplicated)d duplicated, %(unknown)d unknown, "
          "%(verify)d verify failures, %(rerun)d re-run failures, %(out)d OUT failures" % totals)
    bad = sum(totals[k] for k in ("lost", "duplicated", "unknown", "verify", "rerun", "out"))
    if args.expect_loss:
        # The self-test: with a sync left out, the simulator must see committed data or OUT lost.
        caught = totals["lost"] + totals["out"] > 0
        print("crash-test --power-loss: the left-out sync was %s" % ("caught" if caught else "NOT caught"))
        sys.exit(0 if caught else 1)
    sys.exit(1 if bad else 0)


def check_scenario(scenario, runner, args, rules, totals):
    w = os.path.join(args.work, scenario)
    base = os.path.join(w, "base")
    os.makedirs(base)
    if scenario == "second":
        r = runner.run(base, "crash-0")
        if r.returncode != 0:
            sys.exit("power-cut: the first run failed: " + r.stderr)
        os.remove(os.path.join(base, "audit", ".lock"))
    prior_ids = set(sealed_ids(os.path.join(base, "audit")))
    prior_out = tree_digest(os.path.join(base, "out"))
    ref = os.path.join(w, "ref")
    shutil.copytree(base, ref, symlinks=True)
    r = runner.run(ref, "crash-1")
    if r.returncode != 0:
        sys.exit("power-cut: the reference run failed: " + r.stderr)
    ref_ids = sealed_ids(os.path.join(ref, "audit"))
    ref_out = tree_digest(os.path.join(ref, "out"))
    live = os.path.join(w, "live")
    shutil.copytree(base, live, symlinks=True)
    journal = os.path.join(w, "journal")
    extra = ["--debug-fs-journal", journal]
    skip = resolve_skip(args.skip_sync, runner, base, w)
    if skip:
        extra += ["--debug-skip-sync", str(skip)]
    r = runner.run(live, "crash-1", *extra)
    if r.returncode != 0:
        sys.exit("power-cut: the journaled run failed: " + r.stderr)
    ops, data, rel = read_journal(journal, live)
    marks = {op["label"]: i for i, op in enumerate(ops) if op["op"] == "mark"}
    sealed_at, published_at = marks.get("audit-sealed"), marks.get("published")
    if sealed_at is None or published_at is None:
        sys.exit("power-cut: the journal lacks the audit-sealed or published mark")
    model = Model(base)
    seen = set()
    todo = []  # (step, rule) of each distinct image, in journal order
    for k in range(len(ops) + 1):
        if k > 0:
            apply(model, ops[k - 1], data, rel)
        for rule in rules:
            # The same image is a different case once the run has reported it sealed or published.
            sig = (model.signature(rule, args.seed), k > sealed_at, k > published_at)
            if sig not in seen:
                seen.add(sig)
                todo.append((k, rule))
    chosen = todo
    if args.max_states and len(todo) > args.max_states:
        # The states just after the commit and the publish first, then others spread evenly.
        near = []
        for d in (1, 2, 3):
            for mark in (sealed_at, published_at):
                near += [t for t in todo if t[0] == mark + d and t not in near]
        near = near[:max(1, args.max_states // 2)]
        rest = [t for t in todo if t not in near]
        spread = args.max_states - len(near)
        picked = set(near) | {rest[int(i * len(rest) / spread)] for i in range(spread)} if spread > 0 else set(near)
        chosen = [t for t in todo if t in picked]
    print("crash-test --power-loss: scenario %s: %d journal steps, %d distinct power-cut states, checking %d%s"
          % (scenario, len(ops), len(todo), len(chosen), " (sync %d left out)" % skip if skip else ""))
    totals["steps"] += len(ops)
    model = Model(base)
    k = 0
    for step, rule in chosen:
        while k < step:
            apply(model, ops[k], data, rel)
            k += 1
        image = os.path.join(w, "image")
        shutil.rmtree(image, ignore_errors=True)
        model.write_image(image, rule, args.seed)
        label = "%s step %d/%d (%s) %s" % (scenario, step, len(ops), describe(ops, step), rule)
        check_image(image, label, runner, step > sealed_at, step > published_at, prior_ids, prior_out, ref_ids,
                    ref_out, totals)
        totals["states"] += 1
        shutil.rmtree(image, ignore_errors=True)


def resolve_skip(skip, runner, base, w):
    """The sync number to leave out: as given, or found from a journal of a normal run."""
    if skip is None:
        return None
    if skip.isdigit():
        return int(skip)
    probe = os.path.join(w, "probe")
    shutil.copytree(base, probe, symlinks=True)
    journal = os.path.join(w, "probe-journal")
    r = runner.run(probe, "crash-1", "--debug-fs-journal", journal)
    if r.returncode != 0:
        sys.exit("power-cut: the probe run failed: " + r.stderr)
    ops = [json.loads(line) for line in open(journal, encoding="utf-8")]
    label = {"commit": "audit-sealed", "publish": "published"}[skip]
    end = next(i for i, op in enumerate(ops) if op["op"] == "mark" and op["label"] == label)
    kinds = ("syncfs",) if skip == "commit" else ("fsync",)
    return next(op["n"] for op in reversed(ops[:end]) if op["op"] in kinds)


def apply(model, op, data, rel):
    kind = op["op"]
    if kind in ("mark",):
        return
    if kind == "rename":
        a, b = rel(op["from"]), rel(op["to"])
        if a is not None and b is not None:
            model.rename(a, b)
        return
    if kind == "exchange":
        a, b = rel(op["a"]), rel(op["b"])
        if a is not None and b is not None:
            model.exchange(a, b)
        return
    r = rel(op["path"])
    if r is None:
        return  # outside the folders under test
    model.apply(op, r, data)


def describe(ops, step):
    if step == 0:
        return "before the run"
    op = ops[step - 1]
    where = op.get("path") or op.get("to") or op.get("b") or op.get("label", "")
    return "after %s %s" % (op["op"], "/".join(where.split("/")[-3:]))


def check_image(image, label, runner, committed, published, prior_ids, prior_out, ref_ids, ref_out, totals):
    def fail(key, what, n=1):
        totals[key] += n
        lines = what.strip().splitlines()
        short = "\n    ".join(l[:300] for l in lines[:6]) + ("\n    ..." if len(lines) > 6 else "")
        print("crash-test --power-loss: %s: %s" % (label, short), file=sys.stderr)

    audit = os.path.join(image, "audit")
    if os.path.isdir(audit):
        rc, codes, text = runner.verify(image)
        unexpected = [c for c in codes if c not in ALLOWED_BEFORE]
        if unexpected or (rc != 0 and not codes and rc != 66):
            fail("verify", "verify before the re-run failed:\n" + text)
    try:
        ids = sealed_ids(audit)
    except (OSError, ValueError, KeyError) as e:
        fail("verify", "sealed segments unreadable: %s" % e)
        ids = []
    have = set(ids)
    must = set(ref_ids) if committed else prior_ids
    if must - have:
        fail("lost", "%d committed events lost" % len(must - have), len(must - have))
    if len(ids) != len(have):
        fail("duplicated", "%d events sealed twice" % (len(ids) - len(have)), len(ids) - len(have))
    if have - set(ref_ids):
        fail("unknown", "%d sealed events no run wrote" % len(have - set(ref_ids)), len(have - set(ref_ids)))
    out = tree_digest(os.path.join(image, "out"))
    if published and out != ref_out:
        fail("out", "OUT was published but is not the new OUT after the cut")
    elif out not in (prior_out, ref_out):
        fail("out", "OUT is neither the previous nor the new OUT")
    r = runner.run(image, "crash-1")
    if r.returncode != 0:
        errs = [l for l in r.stderr.splitlines() if " code=" in l] or r.stderr.splitlines()
        fail("rerun", "re-run failed (exit %d): %s" % (r.returncode, "\n".join(errs)))
        return
    rc, codes, text = runner.verify(image)
    if rc != 0:
        fail("verify", "verify after the re-run failed:\n" + text)
    ids = sealed_ids(audit)
    if sorted(ids) != sorted(ref_ids):
        missing, dup = len(set(ref_ids) - set(ids)), len(ids) - len(set(ids))
        if missing:
            fail("lost", "after the re-run, %d events missing" % missing, missing)
        if dup:
            fail("duplicated", "after the re-run, %d events twice" % dup, dup)
    if tree_digest(os.path.join(image, "out")) != ref_out:
        fail("out", "after the re-run, OUT differs from an uninterrupted run's")


if __name__ == "__main__":
    main()
