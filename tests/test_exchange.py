"""``benchloop export`` / ``import``: receipts travel byte for byte, and a hostile or
damaged export file can neither escape the runs directory nor overwrite a run."""
from __future__ import annotations

import gzip
import hashlib
import json
import shutil

import pytest

from receipts_helpers import Answers, bench, cli, run_args

from benchloop.exchange import FILES, ExportError, import_file, read_export


@pytest.fixture(scope="module")
def source_runs(tmp_path_factory):
    """A complete run and a killed one (meta.json + tasks.jsonl, no run.json)."""
    from benchloop.testing.scripted import ScriptedEndpoint

    home = tmp_path_factory.mktemp("src")
    with ScriptedEndpoint(Answers(lambda tid: tid != "rm-002")) as ep:
        res = bench(run_args(ep.url, "--run-id", "done-1", "--task=rm-001", "--task=rm-002", "--task=rm-003"), home)
    assert res.returncode == 0, res.stderr
    runs = home / "runs"
    shutil.copytree(runs / "done-1", runs / "killed-1")
    (runs / "killed-1" / "run.json").unlink()
    for name in ("meta.json",):
        meta = json.loads((runs / "killed-1" / name).read_text())
        meta["run_id"] = "killed-1"
        (runs / "killed-1" / name).write_text(json.dumps(meta))
    return home


@pytest.fixture
def two_runs(source_runs, tmp_path):
    home = tmp_path / "src"
    shutil.copytree(source_runs, home)
    return home


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def test_export_then_import_keeps_every_receipt_byte_for_byte(two_runs, tmp_path):
    out = tmp_path / "runs.jsonl.gz"
    res = cli("export", "--all", "--output", str(out), home=two_runs)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    header, entries = read_export(out)
    assert header["format"] == "benchloop-export" and header["version"] == 1
    assert sorted(e["run_id"] for e in entries) == ["done-1", "killed-1"]

    dest = tmp_path / "dest"
    imp = cli("import", str(out), home=dest)
    assert imp.returncode == 0, imp.stderr
    assert _tree(dest / "runs") == _tree(two_runs / "runs")
    # the imported run is a first-class run: shown, and re-scored to the same numbers
    assert cli("score", "done-1", home=dest).returncode == 0
    shown = json.loads(cli("show", "killed-1", "--json", home=dest).stdout)
    assert shown["status"] == "incomplete" and len(shown["tasks"]) == 3

    again = cli("import", str(out), home=dest)
    assert again.returncode == 0 and "already here, identical" in again.stdout

    # a different run under the same id is never overwritten
    tasks = dest / "runs" / "done-1" / "tasks.jsonl"
    tasks.write_text(tasks.read_text()[:-1] + " \n")
    before = tasks.read_bytes()
    clash = cli("import", str(out), home=dest)
    assert clash.returncode == 1 and "not overwritten" in clash.stderr
    assert tasks.read_bytes() == before

    plain = tmp_path / "one.jsonl"
    assert cli("export", "done-1", "--output", str(plain), home=two_runs).returncode == 0
    assert json.loads(plain.read_text().splitlines()[0])["format"] == "benchloop-export"
    refuse = cli("export", "done-1", "--output", str(plain), home=two_runs)
    assert refuse.returncode == 2 and "already exists" in refuse.stderr

    # no run named: every run; a .json name holds one JSON document, .jsonl JSON Lines
    doc, lines = tmp_path / "all.json", tmp_path / "all.jsonl"
    assert cli("export", "--output", str(doc), home=two_runs).returncode == 0
    assert cli("export", "--output", str(lines), home=two_runs).returncode == 0
    whole = json.loads(doc.read_text())
    assert whole["format"] == "benchloop-export" and sorted(e["run_id"] for e in whole["entries"]) == ["done-1", "killed-1"]
    assert [json.loads(x).get("type") for x in lines.read_text().splitlines()][1:] == ["run", "run", "end"]
    for f in (doc, lines):
        dest_f = tmp_path / f"from-{f.suffix[1:]}"
        assert cli("import", str(f), home=dest_f).returncode == 0
        assert _tree(dest_f / "runs") == _tree(two_runs / "runs")
    one_line = tmp_path / "compact.json"
    one_line.write_text(json.dumps(whole))
    assert read_export(one_line)[1] == read_export(doc)[1]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(dict(whole, entries=whole["entries"][:1])))
    with pytest.raises(ExportError, match="names 2 runs but holds 1"):
        read_export(short)


def _export_with(tmp_path, entries, *, end=True, version=1, name="evil.jsonl"):
    lines = [json.dumps({"format": "benchloop-export", "version": version})]
    lines += [json.dumps(e) for e in entries]
    if end:
        lines.append(json.dumps({"type": "end", "runs": len(entries)}))
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def _entry(run_id, files=None):
    files = files or {"meta.json": json.dumps({"run_id": run_id if isinstance(run_id, str) else None, "settings": {}})}
    return {"type": "run", "run_id": run_id, "files": files, "sha256": {k: hashlib.sha256(v.encode()).hexdigest() for k, v in files.items()}}


@pytest.mark.parametrize(
    "entry, why",
    [
        (_entry("../escaped"), "not a plain run id"),
        (_entry(".."), "not a plain run id"),
        (_entry("a/b"), "not a plain run id"),
        (_entry("/tmp/abs"), "not a plain run id"),
        (_entry(".hidden"), "not a plain run id"),
        (_entry(["list"]), "not a plain run id"),
        (_entry("ok-1", {"../../escaped": "x", "meta.json": "{}"}), "unexpected file name"),
        (_entry("ok-2", {"tasks.jsonl": "{}\n"}), "neither meta.json nor run.json"),
        (_entry("ok-3", {"meta.json": json.dumps({"run_id": "other"})}), "names another run"),
        (_entry("ok-4", {"meta.json": "[not json"}), "not JSON"),
        (dict(_entry("ok-5"), sha256={"meta.json": "0" * 64}), "does not match its sha256"),
    ],
)
def test_hostile_entries_are_refused_and_write_nothing(tmp_path, entry, why):
    root = tmp_path / "home" / "runs"
    results = import_file(_export_with(tmp_path, [entry]), root)
    assert results[0][0] == "invalid" and why in results[0][1]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "evil.jsonl"]
    assert written == []


@pytest.mark.parametrize(
    "kwargs, why",
    [
        ({"end": False}, "cut short"),
        ({"version": 2}, "upgrade"),
        ({"version": "1"}, "invalid format version"),
    ],
)
def test_damaged_or_newer_files_are_refused_whole(tmp_path, kwargs, why):
    with pytest.raises(ExportError, match=why):
        read_export(_export_with(tmp_path, [_entry("fine-1")], **kwargs))


def test_garbage_and_truncated_gzip_are_refused_with_one_line(tmp_path, two_runs):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(ExportError, match="not JSON|not a BenchLoop export"):
        read_export(junk)
    out = tmp_path / "cut.jsonl.gz"
    assert cli("export", "--all", "--output", str(out), home=two_runs).returncode == 0
    data = out.read_bytes()
    cut = tmp_path / "cut2.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    res = cli("import", str(cut), home=tmp_path / "d2")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert not (tmp_path / "d2" / "runs").exists() or not any((tmp_path / "d2" / "runs").iterdir())


def test_only_the_receipts_are_exported(two_runs, tmp_path):
    (two_runs / "runs" / "done-1" / "notes.txt").write_text("private")
    out = tmp_path / "x.jsonl"
    assert cli("export", "done-1", "--output", str(out), home=two_runs).returncode == 0
    _h, entries = read_export(out)
    assert set(entries[0]["files"]) == set(FILES) and "private" not in out.read_text()
    with gzip.open(tmp_path / "y.jsonl.gz", "wt") as f:  # a hand-gzipped export reads too
        f.write(out.read_text())
    assert read_export(tmp_path / "y.jsonl.gz")[1][0]["run_id"] == "done-1"
