"""A stored index is loaded instead of built, equals the built one, and is never used for
other entries; a broken file is built again."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App
from knowledge import index_cache, kbfile
from knowledge.entry import Entry
from knowledge.search import Index
from tests.conftest import make_settings
from tests.test_index_edits import assert_same

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    if not (EVAL / "kb.yaml").exists():
        pytest.skip("../shared/eval is not there")
    return kbfile.load(EVAL / "kb.yaml")


def _queries() -> list[str]:
    lines = (EVAL / "queries.jsonl").read_text().splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()][::3]


def test_stored_index_is_loaded_and_equals_a_built_one(
    entries: list[Entry], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    built = index_cache.load_or_build(entries, None, tmp_path)
    stored = list(tmp_path.glob("index-*.pickle"))
    assert len(stored) == 1
    with caplog.at_level(logging.INFO, logger="knowledge.index_cache"):
        loaded = index_cache.load_or_build(entries, None, tmp_path)
    assert "knowledge index loaded" in caplog.text
    assert loaded._state is not built._state
    assert_same(loaded, Index(entries), _queries(), exact=False)
    # A loaded index is edited like a built one.
    changed = [replace(entries[0], answer="Câu trả lời mới."), *entries[1:]]
    assert_same(loaded.updated(changed), Index(changed), _queries()[:10], exact=False)


def test_other_entries_get_another_file(entries: list[Entry], tmp_path: Path) -> None:
    index_cache.load_or_build(entries, None, tmp_path)
    changed = [replace(entries[0], question=entries[0].question + " nhanh"), *entries[1:]]
    assert index_cache.load(tmp_path, changed, None) is None
    index = index_cache.load_or_build(changed, None, tmp_path)
    assert index.get(entries[0].id) == changed[0]
    assert len(list(tmp_path.glob("index-*.pickle"))) == 2
    # Disabled entries are not indexed: the same file serves.
    hidden = [*entries, replace(entries[1], id="an/muc", enabled=False)]
    assert index_cache.path_for(tmp_path, hidden) == index_cache.path_for(tmp_path, entries)


def test_a_base_edited_since_is_loaded_and_edited(
    entries: list[Entry], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index_cache.load_or_build(entries, None, tmp_path)
    edited = [replace(entries[0], answer="Câu trả lời mới."), *entries[2:]]
    with caplog.at_level(logging.INFO, logger="knowledge.index_cache"):
        index = index_cache.load_or_build(edited, None, tmp_path)
    assert "loaded from a stored one and edited" in caplog.text
    assert_same(index, Index(edited), _queries(), exact=False)
    # Too many differences: built at once.
    caplog.clear()
    reordered = list(reversed(entries))
    with caplog.at_level(logging.INFO, logger="knowledge.index_cache"):
        index = index_cache.load_or_build(reordered, None, tmp_path)
    assert "loaded" not in caplog.text
    assert_same(index, Index(reordered), _queries()[:10])


def test_a_broken_file_is_built_again(
    entries: list[Entry], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index_cache.load_or_build(entries, None, tmp_path)
    path = index_cache.path_for(tmp_path, entries)
    path.write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING, logger="knowledge.index_cache"):
        assert index_cache.load(tmp_path, entries, None) is None
    assert "unreadable" in caplog.text
    assert_same(index_cache.load_or_build(entries, None, tmp_path), Index(entries), _queries())


async def test_a_restarted_worker_loads_the_stored_index(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(database_url, tmp_path, index_cache_dir=tmp_path / "idx")
    first = App.build(settings)
    await first.start(migrate_db=False, watch=False)
    try:
        assert len(list((tmp_path / "idx").glob("index-*.pickle"))) == 1
        built = first.knowledge.index
    finally:
        await first.close()
    second = App.build(settings)
    with caplog.at_level(logging.INFO, logger="knowledge.index_cache"):
        await second.start(migrate_db=False, watch=False)
    try:
        assert "knowledge index loaded" in caplog.text
        queries = ["lệ phí khai sinh", "dkkh can gi"]
        assert_same(second.knowledge.index, built, queries, exact=False)
    finally:
        await second.close()
