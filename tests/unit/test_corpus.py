"""bench.corpus: seeded, sized as asked, and the hostile files are the ones the pipeline must fail."""

from bench.corpus import HOSTILE, SIZED, generate, sized
from extractor.extract import Config, extract_file


def test_sized_files_have_the_size_asked_for_in_every_sized_format(tmp_path):
    sizes = (100_000, 1_000_000) * len(SIZED)
    kinds = tuple(k for k in sorted(SIZED) for _ in range(2))
    for path, size in zip(sized(tmp_path, sizes, kinds=kinds), sizes, strict=True):
        assert abs(path.stat().st_size - size) <= size * 0.02 + 8_000, path.name


#: Formats whose writers stamp the current time (zip entries) or a random MIME boundary.
CLOCKED = (".docx", ".pptx", ".xlsx", ".zip", ".eml")


def test_the_same_seed_writes_the_same_files(tmp_path):
    first = generate(tmp_path / "a", 20, seed=3, large=(50_000,), hostile=True)
    second = generate(tmp_path / "b", 20, seed=3, large=(50_000,), hostile=True)
    assert [p.name for p in first] == [p.name for p in second]
    assert {p.name for p in first} >= set(HOSTILE)
    same = [(a, b) for a, b in zip(first, second, strict=True) if not a.name.endswith(CLOCKED)]
    assert len(same) > 10 and all(a.read_bytes() == b.read_bytes() for a, b in same)
    assert all(abs(a.stat().st_size - b.stat().st_size) <= 2 for a, b in zip(first, second, strict=True))


def test_every_hostile_file_fails_extraction_with_a_reason_and_the_rest_do_not(tmp_path):
    paths = generate(tmp_path, 17, seed=5, max_scale=1, large=(1_000,), hostile=True)
    outcomes = {p.name: extract_file(p, p.name, Config()).error for p in paths}
    assert {name for name, error in outcomes.items() if error} == set(HOSTILE)
