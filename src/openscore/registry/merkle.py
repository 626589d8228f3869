"""Merkle trees as RFC 6962 (Certificate Transparency) defines them: hashes, proofs, checks.

Pure functions over 32-byte hashes, no I/O; :mod:`openscore.registry.audit` stores the log
and calls these. Following the RFC exactly (rather than a tree of our own design) means
any CT tooling or a few lines in another language can check our proofs.

* leaf hash ``SHA-256(0x00 || entry)``, node hash ``SHA-256(0x01 || left || right)``;
* the tree of ``n`` leaves splits at the largest power of two ``k < n`` (so trees whose
  size is not a power of two are the RFC's, not padded ones);
* a *frontier* is the list of roots of the perfect subtrees that make up a tree of ``n``
  leaves (one per set bit of ``n``, largest first): appending a leaf and computing the
  root from it cost O(log n), which is how the log grows without rereading itself.

Inclusion and consistency proofs are generated as in RFC 6962 section 2.1 and verified
with the algorithms of RFC 9162 section 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """``SHA-256(0x00 || entry)``: the prefix keeps a leaf from posing as an inner node."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = _split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of *leaf hashes* (RFC 6962 2.1); the empty tree hashes to SHA-256("")."""
    if not leaves:
        return EMPTY_ROOT
    return _mth(leaves, 0, len(leaves))


def frontier_append(frontier: Sequence[bytes], size: int, leaf: bytes) -> list[bytes]:
    """The frontier of a tree of ``size + 1`` leaves, given that of ``size`` leaves."""
    if len(frontier) != size.bit_count():
        raise ValueError(f"a frontier of {size} leaves has {size.bit_count()} hashes")
    merged = [*frontier, leaf]
    # Like a binary counter's carry: each trailing 1-bit of size merges two equal subtrees.
    while size & 1:
        right = merged.pop()
        merged.append(node_hash(merged.pop(), right))
        size >>= 1
    return merged


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """The tree root from its frontier (folded from the right, as the RFC's split implies)."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        root = node_hash(subtree, root)
    return root


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf ``index`` in the tree of ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    # Walk down from the root, collecting siblings; the RFC lists them leaf-first.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_mth(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(leaves, lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves leaf hash ``leaf`` sits at ``index`` in the tree ``root``."""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_path(leaves: Sequence[bytes], first: int) -> list[bytes]:
    """PROOF(m, D[n]): shows the tree of the first ``first`` leaves is a prefix of ``leaves``."""
    n = len(leaves)
    if not 0 <= first <= n:
        raise ValueError(f"cannot prove a tree of {first} against one of {n}")
    if first in (0, n):
        return []
    path: list[bytes] = []
    lo, hi, m, whole = 0, n, first, True
    while True:
        if m == hi - lo:
            if not whole:
                path.append(_mth(leaves, lo, hi))
            break
        k = _split(hi - lo)
        if m <= k:
            path.append(_mth(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(leaves, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    path.reverse()
    return path


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether ``path`` proves the tree ``first_root`` (``first`` leaves) is a prefix of
    the tree ``second_root`` (``second`` leaves)."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path  # the empty tree is a prefix of every tree
    proof = list(path)
    if first & (first - 1) == 0:  # a power of two: the old root is a node of the new tree
        proof.insert(0, first_root)
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
