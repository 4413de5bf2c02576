#!/usr/bin/env python3
"""Independent RFC 9162 Merkle proofs, written from RFC 9162 sections 2.1.1-2.1.4 alone.

Builds trees over the leaves SHA-256(0x00 || ascii(i)) for i = 0..N-1 and, for every tree size
n <= N, writes every inclusion proof (PATH(m, D[n]), section 2.1.3.1) and every consistency proof
(PROOF(m, D[n]), section 2.1.4.1) as one line each, after checking each with the verification
algorithms of sections 2.1.3.2 and 2.1.4.2:

    I <n> <m> <hash>,<hash>,...     audit path of leaf m in the tree of size n
    C <m> <n> <hash>,<hash>,...     consistency proof from size m to size n (0 < m <= n)

Hashes are lower-case hex. The Swift test `MerkleProofTests` writes the same text from sendplan's
code; both must have the SHA-256 in scripts/merkle-proofs.sha256.

Usage: scripts/merkle-proofs.py [--leaves N] [--print | --digest | --check FILE]
"""
import hashlib
import sys


def sha(b):
    return hashlib.sha256(b).digest()


def leaf_hash(entry):
    return sha(b"\x00" + entry)


def node_hash(left, right):
    return sha(b"\x01" + left + right)


def largest_pow2_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    # Section 2.1.1: the empty tree is the hash of nothing; one leaf is its leaf hash (here d holds
    # leaf hashes already).
    if len(d) == 0:
        return sha(b"")
    if len(d) == 1:
        return d[0]
    k = largest_pow2_below(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m, d):
    # Section 2.1.3.1.
    n = len(d)
    if n == 1:
        return []
    k = largest_pow2_below(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    # Section 2.1.4.1.
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = largest_pow2_below(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m, d):
    if m == 0 or m == len(d):
        return []
    return subproof(m, d, True)


def verify_inclusion(leaf_index, tree_size, leaf, inclusion_path, root):
    # Section 2.1.3.2, step by step.
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in inclusion_path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, consistency_path):
    # Section 2.1.4.2, step by step (first > 0; first == second needs an empty proof and equal roots).
    if first == second:
        return consistency_path == [] and first_hash == second_hash
    if consistency_path == []:
        return False
    p = list(consistency_path)
    if first & (first - 1) == 0:
        p = [first_hash] + p
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = p[0]
    for c in p[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# certificate-transparency's RFC 6962 test data: the leaves (as hex entries), then
# (leaf, size, proof) and (first, second, proof) with 1-based leaf numbers, as published there.
KAT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
KAT_INCLUSION = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
KAT_CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


def known_answers():
    d = [leaf_hash(bytes.fromhex(x)) for x in KAT_LEAVES]
    for leaf, size, want in KAT_INCLUSION:
        got = [h.hex() for h in path(leaf - 1, d[:size])]
        assert got == want, ("RFC 6962 inclusion vector", leaf, size)
        assert verify_inclusion(leaf - 1, size, d[leaf - 1], [bytes.fromhex(h) for h in want], mth(d[:size]))
    for first, second, want in KAT_CONSISTENCY:
        got = [h.hex() for h in proof(first, d[:second])]
        assert got == want, ("RFC 6962 consistency vector", first, second)
        assert verify_consistency(first, second, mth(d[:first]), mth(d[:second]), [bytes.fromhex(h) for h in want])


def text(count):
    known_answers()
    leaves = [leaf_hash(str(i).encode()) for i in range(count)]
    roots = [mth(leaves[:n]) for n in range(count + 1)]
    out = []
    for n in range(1, count + 1):
        d = leaves[:n]
        for m in range(n):
            p = path(m, d)
            assert verify_inclusion(m, n, d[m], p, roots[n]), ("inclusion", m, n)
            if n > 1:
                assert not verify_inclusion(m, n, d[(m + 1) % n], p, roots[n]) or d[m] == d[(m + 1) % n]
            out.append("I %d %d %s\n" % (n, m, ",".join(h.hex() for h in p)))
        for m in range(1, n + 1):
            p = proof(m, d)
            assert verify_consistency(m, n, roots[m], roots[n], p), ("consistency", m, n)
            if m < n:
                assert not verify_consistency(m, n, roots[m - 1] if m > 1 else sha(b"x"), roots[n], p)
            out.append("C %d %d %s\n" % (m, n, ",".join(h.hex() for h in p)))
    return "".join(out)


def main():
    args = sys.argv[1:]
    count = 64
    if "--leaves" in args:
        count = int(args[args.index("--leaves") + 1])
    t = text(count)
    digest = hashlib.sha256(t.encode()).hexdigest()
    if "--print" in args:
        sys.stdout.write(t)
    elif "--check" in args:
        want = open(args[args.index("--check") + 1]).read().split()[0]
        if want != digest:
            print(f"merkle-proofs.py: digest {digest}, but {want} was expected: the Swift proofs differ")
            sys.exit(1)
        print(f"merkle-proofs.py: {t.count(chr(10))} proofs for every size up to {count} leaves agree ({digest})")
    else:
        print(digest)


main()
