"""onnxruntime, imported to load the model, writes nothing into the user's home and prints nothing."""

from __future__ import annotations

from pathlib import Path

from gitrepo import TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo


def test_loading_the_model_leaves_no_telemetry_in_the_home(repo: GitRepo) -> None:
    """Its device id and telemetry database would go to ~/.cache; with a HOME it cannot write, it would
    print a warning into the command's (or git's) output."""
    repo.stop_on({"src/App.java": (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    del repo.env["MERGEBERT_MODEL"]  # the shipped model: onnxruntime is imported
    resolve = repo.mergebert("resolve", "--dry-run")
    assert "onnxruntime" not in resolve.stderr
    assert not list(Path(repo.env["HOME"], ".cache").glob("Microsoft/**/deviceid"))
