"""`git checkout --conflict=STYLE`, `checkout -m` and `restore --merge` on a file of a stopped merge: the
user asks for the conflict back, and git runs the merge driver to make it. mergebert steps aside: the file
gets git's own conflict (labels `ours`/`base`/`theirs`, the style asked for), as without mergebert, and
the decision log of the merge stays for `mergebert review`.
"""

from __future__ import annotations

import pytest
from gitrepo import TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS, GitRepo

NAME = "src/App.java"
COMMANDS = {
    "checkout --conflict=diff3": ("checkout", "--conflict=diff3", "--", NAME),
    "checkout -m": ("checkout", "-m", "--", NAME),
    "checkout --merge, no --": ("checkout", "--merge", NAME),
    "restore --merge": ("restore", "--merge", NAME),
    "restore --conflict=zdiff3": ("restore", "--conflict=zdiff3", NAME),
    "checkout --conflict diff3": ("checkout", "--conflict", "diff3", "--", NAME),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_the_conflict_made_again_is_gits(repo: GitRepo, command: str) -> None:
    repo.stop_on({NAME: (TOKEN_BASE, TOKEN_OURS, TOKEN_THEIRS)})
    repo.write(NAME, "my edit\n")
    alone = repo.git(*COMMANDS[command], check=False)
    expected = repo.read(NAME)
    assert alone.returncode == 0 and b"<<<<<<< ours" in expected
    repo.git("merge", "--abort")
    repo.use_driver(confirm=True)
    stopped = repo.git("merge", "--no-edit", "feature", check=False)
    assert stopped.returncode != 0 and b"<<<<<<<" not in repo.read(NAME), "mergebert resolved it"
    repo.write(NAME, "my edit\n")
    again = repo.git(*COMMANDS[command], check=False)
    assert (again.returncode, repo.read(NAME)) == (0, expected)
    review = repo.mergebert("review").stdout
    assert "merge of feature" in review and "resolved 1 of 1 conflict" in review
