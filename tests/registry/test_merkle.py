"""RFC 6962 hashing and proofs, against the Certificate Transparency reference vectors and
exhaustively over small trees (every shape of the recursion up to 40 leaves)."""

from __future__ import annotations

import hashlib

import pytest

from openscore.registry import merkle

# The reference inputs and tree heads of CT's merkle tree tests (RFC 6962 hashing).
CT_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (leaf index, tree size, path)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [  # (first size, second size, path)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_LEAVES = [merkle.leaf_hash(d) for d in CT_INPUTS]
MAX_N = 40
LEAVES = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(MAX_N)]


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_hashes_are_domain_separated() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_roots_match_the_reference(size: int) -> None:
    assert merkle.root_hash(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_inclusion_paths_match_the_reference(index: int, size: int, path: list[str]) -> None:
    assert [p.hex() for p in merkle.inclusion_path(CT_LEAVES[:size], index)] == path
    root = bytes.fromhex(CT_ROOTS[size])
    assert merkle.verify_inclusion(
        CT_LEAVES[index], index, size, [bytes.fromhex(p) for p in path], root
    )


@pytest.mark.parametrize(("first", "second", "path"), CT_CONSISTENCY)
def test_consistency_paths_match_the_reference(first: int, second: int, path: list[str]) -> None:
    assert [p.hex() for p in merkle.consistency_path(CT_LEAVES[:second], first)] == path
    assert merkle.verify_consistency(
        first,
        second,
        bytes.fromhex(CT_ROOTS[first]),
        bytes.fromhex(CT_ROOTS[second]),
        [bytes.fromhex(p) for p in path],
    )


def test_the_frontier_gives_the_rfc_root_at_every_size() -> None:
    frontier: list[bytes] = []
    assert merkle.frontier_root(frontier) == merkle.EMPTY_ROOT
    for n, leaf in enumerate(LEAVES):
        frontier = merkle.frontier_append(frontier, n, leaf)
        assert len(frontier) == (n + 1).bit_count()
        assert merkle.frontier_root(frontier) == merkle.root_hash(LEAVES[: n + 1])


def test_every_inclusion_proof_verifies_and_any_alteration_fails() -> None:
    for n in range(1, MAX_N + 1):
        leaves = LEAVES[:n]
        root = merkle.root_hash(leaves)
        for i in range(n):
            path = merkle.inclusion_path(leaves, i)
            assert merkle.verify_inclusion(leaves[i], i, n, path, root), (i, n)
            assert not merkle.verify_inclusion(_flip(leaves[i]), i, n, path, root)
            assert not merkle.verify_inclusion(leaves[i], i, n, path, _flip(root))
            for k in range(len(path)):
                bad = [*path[:k], _flip(path[k]), *path[k + 1 :]]
                assert not merkle.verify_inclusion(leaves[i], i, n, bad, root), (i, n, k)
            if path:
                assert not merkle.verify_inclusion(leaves[i], i, n, path[:-1], root)
            assert not merkle.verify_inclusion(leaves[i], i, n, [*path, root], root)
            if n > 1:
                other = (i + 1) % n
                assert not merkle.verify_inclusion(leaves[i], other, n, path, root)
            assert not merkle.verify_inclusion(leaves[i], n, n, path, root)


def test_every_consistency_proof_verifies_and_any_alteration_fails() -> None:
    roots = [merkle.root_hash(LEAVES[:m]) for m in range(MAX_N + 1)]
    for n in range(1, MAX_N + 1):
        for m in range(0, n + 1):
            path = merkle.consistency_path(LEAVES[:n], m)
            assert merkle.verify_consistency(m, n, roots[m], roots[n], path), (m, n)
            if 0 < m < n:
                assert not merkle.verify_consistency(m, n, _flip(roots[m]), roots[n], path)
                assert not merkle.verify_consistency(m, n, roots[m], _flip(roots[n]), path)
                for k in range(len(path)):
                    bad = [*path[:k], _flip(path[k]), *path[k + 1 :]]
                    assert not merkle.verify_consistency(m, n, roots[m], roots[n], bad)


def test_a_rewritten_history_is_not_consistent_with_its_old_head() -> None:
    old = merkle.root_hash(LEAVES[:10])
    forged = [*LEAVES[:3], merkle.leaf_hash(b"forged"), *LEAVES[4:20]]
    path = merkle.consistency_path(forged, 10)
    assert not merkle.verify_consistency(10, 20, old, merkle.root_hash(forged), path)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_path(LEAVES[:3], 3)
    with pytest.raises(ValueError):
        merkle.consistency_path(LEAVES[:3], 4)
    with pytest.raises(ValueError):
        merkle.frontier_append([], 1, LEAVES[0])
    assert not merkle.verify_consistency(3, 2, LEAVES[0], LEAVES[0], [])
