"""`mergebert train` under `torchrun --nproc_per_node 2` on CPU (gloo): the ranks share the training files,
rank 0 writes the model and its metrics, the other rank writes nothing."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

for _name in ("torch", "transformers", "tokenizers"):
    pytest.importorskip(_name, reason=f"training tests need the [train] extra ({_name})")

from mergebert.data.records import conflict_input  # noqa: E402
from mergebert.neural.onnx_classifier import load_classifier  # noqa: E402
from training.distributed import Ranks, shard_by_file  # noqa: E402

TINY = [
    "--hidden", "32", "--layers", "1", "--heads", "2", "--vocab-size", "400", "--max-len", "48",
    "--max-context", "16", "--min-context", "8", "--batch-size", "8", "--lr", "3e-3", "--warmup-steps", "2",
    "--epochs", "2", "--eval-every", "3", "--max-minutes", "0", "--threads", "1", "-j", "1",
]  # fmt: skip


def records(repos: int = 4, merges: int = 8) -> list[dict]:
    """Conflicts resolved by taking ours; two files (merge, path) of each merge, one conflict each."""
    rng = random.Random(0)
    out = []
    for repo in range(repos):
        for merge in range(merges):
            for path in ("App.java", "Util.java"):
                base, ours, theirs = rng.sample(range(1000, 9999), 3)
                out.append(
                    {
                        "id": f"{repo}-{merge}-{path}",
                        "repo": f"owner/repo{repo}",
                        "merge": f"{merge:040x}",
                        "path": path,
                        "lang": "java",
                        "ours": f"        int port = {ours};\n",
                        "base": f"        int port = {base};\n",
                        "theirs": f"        int port = {theirs};\n",
                        "resolution": f"        int port = {ours};\n",
                        "prefix": "public class App {\n    void main() {\n",
                        "suffix": "    }\n}\n",
                        "bulk_merge": False,
                    }
                )
    return out


def test_shards_keep_each_file_whole_and_share_the_files_out() -> None:
    data = records(repos=2, merges=3) + [{**records(1, 1)[0], "id": "again"}]  # a second region of a file
    shards = [shard_by_file(data, Ranks(rank, 2, None)) for rank in range(2)]  # type: ignore[arg-type]
    files = [{(r["repo"], r["merge"], r["path"]) for r in shard} for shard in shards]
    assert not files[0] & files[1]
    assert sorted(r["id"] for shard in shards for r in shard) == sorted(r["id"] for r in data)
    assert [len(f) for f in files] == [6, 6]


# `mergebert` for torchrun, reporting every file a rank other than 0 opens for writing or every folder it
# makes, outside a temporary folder of its own (torch's import probes the temporary folder with a file)
RANK_SCRIPT = """
import os, sys, tempfile
if os.environ["RANK"] != "0":
    own = os.environ["RANK_TMPDIR"]
    tempfile.tempdir = own

    def report(event, args):
        if event == "open" and isinstance(args[0], (str, bytes)):
            path, mode, flags = args
            writes = any(c in (mode or "") for c in "wax+") or (flags or 0) & (os.O_WRONLY | os.O_RDWR)
        elif event == "os.mkdir":
            path, writes = args[0], True
        else:
            return
        if writes and not os.path.abspath(os.fsdecode(path)).startswith(own):
            print("RANK WROTE", os.fsdecode(path), file=sys.stderr)

    sys.addaudithook(report)
from mergebert.cli import main
sys.argv[0] = "mergebert"
main()
"""


def test_torchrun_two_processes_train_and_only_rank_0_writes(tmp_path: Path) -> None:
    torchrun = shutil.which("torchrun")
    assert torchrun, "torch installs torchrun"
    data = tmp_path / "train.regions.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records()))
    out, cwd, own_tmp, script = tmp_path / "model", tmp_path / "cwd", tmp_path / "tmp1", tmp_path / "rank.py"
    cwd.mkdir()
    own_tmp.mkdir()
    script.write_text(RANK_SCRIPT)
    env = {**os.environ, "HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1", "RANK_TMPDIR": str(own_tmp)}
    # torch makes its compile cache's folder when imported (this process's import set the variable)
    env["TORCHINDUCTOR_CACHE_DIR"] = str(own_tmp / "torchinductor")
    run = subprocess.run(
        ["nice", "-n", "10", torchrun, "--standalone", "--nproc_per_node", "2", str(script), "train",
         str(data), "-o", str(out), *TINY],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "2 processes (gloo)" in run.stdout
    assert "RANK WROTE" not in run.stderr, [ln for ln in run.stderr.splitlines() if "RANK WROTE" in ln]
    assert not list(cwd.iterdir())

    assert {p.name for p in out.iterdir()} == {
        "config.json", "metrics.json", "model.pt", "model.onnx", "export.json", "vocab.json", "merges.txt",
    }  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_records"] == 48 and metrics["valid_records"] == 16
    assert metrics["train_units"] == 96, "both ranks' units (a region and a token unit a record)"
    assert metrics["steps"] == 12, "two epochs of 96 units in steps of 2 ranks x 8 units"
    classifier = load_classifier(out, threshold=0.0)
    conflict = conflict_input(records(1, 1)[0])
    assert classifier.rank([conflict])[0], "the exported model ranks candidates"
