"""bronze.quote_problem scans a file in chunks; whatever the chunk boundaries, it finds the same
first stray quote (and its line) as a byte-by-byte reading of RFC 4180's quoting rule."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bank_assets.warehouse import bronze


def first_stray(data: bytes) -> tuple[str, int] | None:
    """The rule read byte by byte: a quote opens a field, closes one, or is doubled."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    for i, byte in enumerate(data):
        if byte != ord('"'):
            continue
        before = data[i - 1 : i] or b"\n"
        after = data[i + 1 : i + 2] or b"\n"
        if before not in (b",", b"\n", b'"') and after not in (b",", b"\n", b"\r", b'"'):
            return "MALFORMED_CSV", data[:i].count(b"\n") + 1
    return ("TRUNCATED", 0) if data.count(b'"') % 2 else None


def csv_bytes(rng: random.Random) -> bytes:
    """A small CSV whose fields are quoted, doubled, or broken by a quote in odd places."""
    fields = ['"A1"', "B", '"x,y"', '"he said ""hi"""', "", '""', 'C"1', '"A1"x', 'x"', '"open']
    weights = [20, 20, 10, 5, 5, 5, 1, 1, 1, 1]
    lines = []
    for _ in range(rng.randint(1, 12)):
        lines.append(",".join(rng.choices(fields, weights, k=rng.randint(1, 5))))
    ending = rng.choice(["\n", "\r\n"])
    text = ending.join(["h1,h2", *lines]) + rng.choice(["", ending])
    return (b"\xef\xbb\xbf" if rng.random() < 0.2 else b"") + text.encode()


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 18])
def test_quote_problem_is_the_same_whatever_the_chunk_size(tmp_path: Path, monkeypatch, chunk: int):
    monkeypatch.setattr(bronze, "_CHUNK", chunk)
    rng = random.Random(chunk)
    path = tmp_path / "t.csv"
    found = {"MALFORMED_CSV": 0, "TRUNCATED": 0, None: 0}
    for _ in range(400):
        data = csv_bytes(rng)
        path.write_bytes(data)
        problem = bronze.quote_problem(path)
        got = (problem.rule, problem.line) if problem else None
        assert got == first_stray(data), data
        found[got[0] if got else None] += 1
    assert all(found.values()), found  # every outcome was exercised
