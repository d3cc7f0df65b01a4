"""Retrieval at scale: build time, resident memory, one admin edit and search latency at N entries.

    .venv/bin/python bench/retrieval_scale.py                    # 20,000 entries
    .venv/bin/python bench/retrieval_scale.py --entries 10000 --json
    .venv/bin/python bench/retrieval_scale.py --rebuild          # edits by a full rebuild
    .venv/bin/python bench/retrieval_scale.py --cache /tmp/idx   # + loading the stored index

The base is the bundled knowledge base (``knowledge/data``) grown to N entries: every copy of a
procedure group gets another procedure name (the original one for a kind of applicant and a
place, "... cho người nước ngoài tại Đà Nẵng"), another agency in its answers and other numbers,
with a deterministic seed. Queries are the base's own phrasings as citizens type them: with words
dropped, particles added, without diacritics, with one typing slip, plus the development set's
real questions.

Figures:
- build: seconds to build the index from the entries (``calibrate.build``, as a worker does),
  and the CPU seconds it took (the figure to compare on a machine shared with other work);
- RSS: growth of the process's resident memory (``VmRSS`` in ``/proc/self/status``) from before
  the build to after it (what a worker holds for the index, caches included), the peak
  growth during the build (``VmHWM``), and the growth after the edits and searches (with what
  searches keep: contributions of common features, word weights, recent questions);
- edit: milliseconds to apply one admin edit (an entry updated, added, deleted) as
  ``bot/kb_service.py`` applies it (``--rebuild``: by building a new index from all entries);
- search: p50 / p99 milliseconds of ``Index.search`` over the queries, pinned to one core,
  elapsed and CPU time (on a machine shared with other work, the elapsed times include waits
  for the core: the CPU times are what a search costs);
- with ``--cache``: seconds to load the stored index (``INDEX_CACHE_DIR``) and the resident
  growth it causes, in a fresh process (what a restarting worker does).

The machine may be shared: run it a few times and quote the spread.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge import calibrate, index_cache, kbfile  # noqa: E402
from knowledge.entry import Entry  # noqa: E402
from knowledge.normalize import fold  # noqa: E402
from knowledge.search import Index  # noqa: E402

DEV_QUERIES = (ROOT / ".." / "shared" / "eval" / "queries.jsonl").resolve()

APPLICANTS = (
    "cho người nước ngoài",
    "cho người cao tuổi",
    "cho trẻ em dưới 6 tuổi",
    "cho người khuyết tật",
    "cho hộ kinh doanh",
    "cho doanh nghiệp nhỏ",
    "cho người lao động tự do",
    "cho học sinh sinh viên",
    "cho hộ nghèo",
    "cho người có công",
    "cho quân nhân xuất ngũ",
    "cho người Việt Nam ở nước ngoài",
)
PLACES = (
    "Hà Nội",
    "Thành phố Hồ Chí Minh",
    "Đà Nẵng",
    "Hải Phòng",
    "Cần Thơ",
    "Huế",
    "Quảng Ninh",
    "Nghệ An",
    "Khánh Hòa",
    "Lâm Đồng",
    "Đồng Nai",
    "Bình Dương",
    "Thanh Hóa",
    "An Giang",
    "Đắk Lắk",
    "Lào Cai",
)
AGENCIES = (
    "Ủy ban nhân dân xã",
    "Ủy ban nhân dân phường",
    "Trung tâm Phục vụ hành chính công tỉnh",
    "Sở Tư pháp",
    "Sở Lao động",
    "Công an tỉnh",
    "Bảo hiểm xã hội khu vực",
    "Chi cục Thuế khu vực",
    "Văn phòng đăng ký đất đai",
    "Sở Y tế",
)
_AGENCY = re.compile(
    r"(Ủy ban nhân dân|UBND|Công an|Sở [A-ZĐ][^\s,.;]*|Bảo hiểm xã hội|BHXH|Chi cục Thuế)"
)
_NUMBER = re.compile(r"\d+")
PARTICLES = ("", " ạ", " vậy ad", " hông", " nha", " zậy", " ạ?", " với ạ")


def _qualifiers(rng: random.Random) -> list[str]:
    """Every applicant x place qualifier, in a seeded order."""
    out = [f"{a} tại {p}" for a in APPLICANTS for p in PLACES]
    rng.shuffle(out)
    return out


def _vary(entry: Entry, copy: int, qualifier: str, rng: random.Random) -> Entry:
    """One copy of a bundled entry: another procedure, agency and numbers."""
    group, _, rest = entry.id.partition("/")
    agency = AGENCIES[copy % len(AGENCIES)]

    def numbers(text: str) -> str:
        return _NUMBER.sub(lambda m: str(rng.randint(1, 9) * 10 ** (len(m.group()) - 1)), text)

    def ask(text: str) -> str:
        stem = text.rstrip(" ?")
        return f"{stem} {qualifier}?" if text.endswith("?") else f"{stem} {qualifier}"

    answer = _AGENCY.sub(agency, numbers(entry.answer))
    return replace(
        entry,
        id=f"{group}-v{copy}/{rest}" if rest else f"{group}-v{copy}",
        procedure=f"{entry.procedure} {qualifier}" if entry.procedure else "",
        question=ask(entry.question),
        alternatives=tuple(ask(a) for a in entry.alternatives),
        keywords=(*entry.keywords, qualifier.split(" tại ")[0]),
        answer=answer,
    )


def synthetic_base(n: int, seed: int = 11) -> list[Entry]:
    """``n`` entries grown from the bundled base (itself first), deterministic for a seed."""
    bundled = [e for e in kbfile.load_dir(ROOT / "knowledge" / "data") if e.enabled]
    rng = random.Random(seed)
    qualifiers = _qualifiers(rng)
    out: list[Entry] = list(bundled[:n])
    copy = 0
    while len(out) < n:
        qualifier = qualifiers[copy % len(qualifiers)]
        for e in bundled:
            if len(out) >= n:
                break
            out.append(_vary(e, copy + 1, qualifier, rng))
        copy += 1
    return out


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]  # a letter dropped
    if kind == 1:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]  # two letters swapped
    return word[:i] + word[i] + word[i:]  # a letter doubled


def synthetic_queries(entries: Sequence[Entry], n: int, seed: int = 12) -> list[str]:
    """Citizen-like questions on the base: phrasings with dropped words, particles, no
    diacritics (40%), one typing slip (30%); the development set's questions first."""
    rng = random.Random(seed)
    out: list[str] = []
    if DEV_QUERIES.exists():
        out = [json.loads(line)["q"] for line in DEV_QUERIES.read_text().splitlines() if line]
    while len(out) < n:
        e = rng.choice(entries)
        ws = rng.choice(e.phrasings).rstrip("?").split()
        ws = [w for w in ws if rng.random() > 0.15] or ws
        if rng.random() < 0.3:
            j = rng.randrange(len(ws))
            ws[j] = _typo(ws[j], rng)
        text = " ".join(ws) + rng.choice(PARTICLES)
        out.append(fold(text) if rng.random() < 0.4 else text)
    return out[:n]


def _status(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _apply_edit(index: Index, entries: list[Entry], new: Entry | None, old_id: str | None) -> Index:
    """Apply one edit as the knowledge service does (incremental when the index supports it)."""
    if hasattr(index, "with_entry") and not _REBUILD:
        if new is None:
            assert old_id is not None
            return index.without_entry(old_id)
        return index.with_entry(new)
    kept = [e for e in entries if e.id != (old_id or (new.id if new else None))]
    return calibrate.build([*kept, new] if new else kept)


_REBUILD = False


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000


def load_only(n: int, seed: int, cpu: int | None, cache: Path) -> dict[str, Any]:
    """Load time and resident growth of the stored index of the base, in a fresh process."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    entries = synthetic_base(n, seed)
    gc.collect()
    rss0 = _status("VmRSS")
    index, load_ms = _timed(lambda: index_cache.load(cache, entries, None))
    if index is None:
        raise SystemExit(f"no stored index for this base in {cache}")
    index.search(entries[0].question)
    gc.collect()
    return {"load_s": round(load_ms / 1000, 3), "load_rss_mib": round(_status("VmRSS") - rss0, 1)}


def _measure_load(n: int, seed: int, cpu: int | None, cache: Path) -> dict[str, Any]:
    _progress("loading the stored index in a fresh process ...")
    cmd = [sys.executable, __file__, "--load-only", str(cache), "--entries", str(n)]
    cmd += ["--seed", str(seed), "--cpu", str(-1 if cpu is None else cpu)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def run(
    n: int, n_queries: int, seed: int, cpu: int | None, cache: Path | None = None
) -> dict[str, Any]:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    _progress(f"generating {n} entries ...")
    entries = synthetic_base(n, seed)
    queries = synthetic_queries(entries, n_queries, seed + 1)
    gc.collect()
    rss0, hwm0 = _status("VmRSS"), _status("VmHWM")
    _progress("building the index ...")
    cpu0 = time.process_time()
    index, build_ms = _timed(lambda: calibrate.build(entries))
    build_cpu = time.process_time() - cpu0
    gc.collect()
    rss1, hwm1 = _status("VmRSS"), _status("VmHWM")
    _progress(f"  built in {build_ms / 1000:.2f} s, RSS +{rss1 - rss0:.0f} MiB")
    loaded: dict[str, Any] = {}
    if cache is not None:
        index_cache.save(cache, index)
        loaded = _measure_load(n, seed, cpu, cache)
        _progress(f"  loaded in {loaded['load_s']:.2f} s, RSS +{loaded['load_rss_mib']:.0f} MiB")

    rng = random.Random(seed + 2)
    target = rng.choice(entries[len(entries) // 2 :])
    updated = replace(
        target,
        answer=target.answer + " Hồ sơ nộp trực tuyến trên Cổng Dịch vụ công quốc gia.",
        alternatives=(*target.alternatives, "làm " + target.question.lower()),
    )
    added = replace(target, id=target.id + "-moi", question="Thủ tục mới: " + target.question)
    edits: dict[str, float] = {}
    _progress("applying edits ...")
    index, edits["update"] = _timed(lambda: _apply_edit(index, entries, updated, target.id))
    entries = [updated if e.id == target.id else e for e in entries]
    index, edits["add"] = _timed(lambda: _apply_edit(index, entries, added, None))
    entries.append(added)
    index, edits["delete"] = _timed(lambda: _apply_edit(index, entries, None, added.id))
    entries.pop()
    found = index.get(target.id)
    if found is None or found.answer != updated.answer or index.get(added.id) is not None:
        raise SystemExit("the edits were not applied")

    _progress(f"searching {len(queries)} queries ...")
    for q in queries[:100]:  # warm the caches as a running worker would be
        index.search(q)
    times: list[float] = []
    cpu_times: list[float] = []
    for i, q in enumerate(queries):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        index.search(q)
        times.append((time.perf_counter() - t0) * 1000)
        cpu_times.append((time.thread_time() - c0) * 1000)
        if (i + 1) % 1000 == 0:
            _progress(f"  {i + 1}/{len(queries)}")
    times.sort()
    cpu_times.sort()
    gc.collect()
    rss_searched = _status("VmRSS")
    return {
        "entries": len(index),
        "build_s": round(build_ms / 1000, 3),
        "build_cpu_s": round(build_cpu, 3),
        "rss_mib": round(rss1 - rss0, 1),
        "peak_rss_mib": round(max(hwm1 - rss0, 0.0), 1) if hwm1 > hwm0 else None,
        # after the edits and the searches: with what searches keep (contributions of common
        # features, word weights, the analyses of recent questions)
        "rss_after_searches_mib": round(rss_searched - rss0, 1),
        "edit_update_ms": round(edits["update"], 1),
        "edit_add_ms": round(edits["add"], 1),
        "edit_delete_ms": round(edits["delete"], 1),
        "edit_path": "rebuild" if _REBUILD or not hasattr(index, "with_entry") else "incremental",
        "queries": len(times),
        "search_p50_ms": round(statistics.median(times), 3),
        "search_p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 3),
        # CPU time of the search thread: what the search costs, without the waits for a core
        # that other work on a shared machine adds to the elapsed times above
        "search_cpu_p50_ms": round(statistics.median(cpu_times), 3),
        "search_cpu_p99_ms": round(
            cpu_times[min(len(cpu_times) - 1, int(0.99 * len(cpu_times)))], 3
        ),
        "cpu": cpu,
        **loaded,
    }


TARGETS = {"build_s": 3.0, "rss_mib": 150.0, "edit_update_ms": 200.0, "search_p99_ms": 5.0}


def main(argv: Sequence[str] | None = None) -> None:
    global _REBUILD
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cpu", type=int, default=0, help="core to pin to (-1: no pinning)")
    parser.add_argument("--rebuild", action="store_true", help="apply edits by full rebuilds")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--cache", type=Path, help="also store the index there and time loading it (new process)"
    )
    parser.add_argument("--load-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _REBUILD = args.rebuild
    cpu = None if args.cpu < 0 else args.cpu
    if args.load_only is not None:
        print(json.dumps(load_only(args.entries, args.seed, cpu, args.load_only)))
        return
    figures = run(args.entries, args.queries, args.seed, cpu, args.cache)
    if args.json:
        print(json.dumps(figures))
        return
    rows = [
        ("entries", f"{figures['entries']}", ""),
        ("index build", f"{figures['build_s']:.2f} s", "< 3 s"),
        ("index build: CPU time", f"{figures['build_cpu_s']:.2f} s", ""),
        ("resident memory growth", f"{figures['rss_mib']:.0f} MiB", "< 150 MiB"),
        ("peak growth during build", f"{figures['peak_rss_mib'] or 0:.0f} MiB", ""),
        ("resident growth after searches", f"{figures['rss_after_searches_mib']:.0f} MiB", ""),
        (
            f"edit: update ({figures['edit_path']})",
            f"{figures['edit_update_ms']:.0f} ms",
            "< 200 ms",
        ),
        ("edit: add", f"{figures['edit_add_ms']:.0f} ms", "< 200 ms"),
        ("edit: delete", f"{figures['edit_delete_ms']:.0f} ms", "< 200 ms"),
        (f"search p50 ({figures['queries']} q)", f"{figures['search_p50_ms']:.2f} ms", ""),
        ("search p99", f"{figures['search_p99_ms']:.2f} ms", "< 5 ms"),
        ("search CPU p50", f"{figures['search_cpu_p50_ms']:.2f} ms", ""),
        ("search CPU p99", f"{figures['search_cpu_p99_ms']:.2f} ms", ""),
    ]
    if "load_s" in figures:
        rows[3:3] = [
            ("stored index: load", f"{figures['load_s']:.2f} s", "< 3 s"),
            ("stored index: RSS growth", f"{figures['load_rss_mib']:.0f} MiB", "< 150 MiB"),
        ]
    for name, value, target in rows:
        print(f"{name:32s} {value:>12s}   {target}")


if __name__ == "__main__":
    main()
