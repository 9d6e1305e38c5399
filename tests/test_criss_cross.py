"""Criss-cross merges: two merge bases, which git first merges into a virtual one.

git runs a file's merge driver for that inner merge too, and ignores its exit status there: whatever the
driver writes becomes the base of the real merge. mergebert leaves the inner merge to git's own text
merge (`merge.mergebert.recursive = text`, written by `install`), so the virtual base, and whether and
where the real merge stops, are git's; only the real merge's conflicts are mergebert's to resolve.
"""

from __future__ import annotations

from gitrepo import GitRepo

NAME = "Server.java"


def server(host: str, port: int, tls: str, comment: str = "") -> str:
    return (
        "public class Server {\n"
        f"    private final String host;{comment}\n"
        "    private final int port;\n"
        "\n"
        "    public static void main(String[] args) {\n"
        f'        Server server = new Server("{host}", {port}, {tls});\n'
        "    }\n"
        "}\n"
    )


def criss_cross(repo: GitRepo) -> None:
    """main and side each merged the other's first change; the bases conflict on one line, which the
    token merge settles. Then main changes the port and side adds a comment."""
    repo.commit({NAME: server("localhost", 8080, "false")}, "base")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit({NAME: server("0.0.0.0", 8080, "false")}, "side: host")
    repo.git("checkout", "-q", "main")
    repo.commit({NAME: server("localhost", 8080, "true")}, "main: tls")
    repo.git("checkout", "-q", "side")
    repo.git("merge", "-q", "main", "-m", "merge main", check=False)
    repo.commit({NAME: server("0.0.0.0", 8080, "true")}, "side: merged")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "side~1", "-m", "merge side", check=False)
    repo.commit({NAME: server("0.0.0.0", 8080, "true")}, "main: merged")
    repo.commit({NAME: server("0.0.0.0", 9090, "true")}, "main: port")
    repo.git("checkout", "-q", "side")
    repo.commit({NAME: server("0.0.0.0", 8080, "true", " // name or address")}, "side: comment")
    repo.git("checkout", "-q", "main")


def state(repo: GitRepo) -> tuple[int, str, str]:
    """The merge's exit status, the unmerged index entries (the virtual base among them), the file."""
    merged = repo.git("merge", "--no-edit", "side", check=False)
    unmerged = repo.git("ls-files", "-u").stdout
    return merged.returncode, unmerged, repo.read(NAME).decode()


def test_the_inner_merge_of_a_criss_cross_is_gits(repo: GitRepo) -> None:
    criss_cross(repo)
    assert len(repo.git("merge-base", "--all", "main", "side").stdout.split()) == 2
    status, unmerged, alone = state(repo)
    assert status != 0 and unmerged
    repo.git("merge", "--abort")
    repo.mergebert("install", check=True)
    with_mergebert = state(repo)
    assert with_mergebert[0] != 0, "confirm mode: git stops where git alone stops"
    assert with_mergebert[1] == unmerged, "the same virtual base, ours and theirs in the index"
    if with_mergebert[2] != alone:
        assert "<<<<<<<" not in with_mergebert[2]
        assert repo.mergebert("review").stdout.count("resolved") >= 1


def test_a_conflict_left_in_a_criss_cross_merge_equals_gits(repo: GitRepo) -> None:
    """diff3 style: the base of the real merge is labelled as git labels it ("merged common ancestors")."""
    repo.git("config", "merge.conflictStyle", "diff3")
    criss_cross(repo)
    repo.git("checkout", "-q", "side")
    repo.commit({NAME: server("0.0.0.0", 7070, "true")}, "side: another port")
    repo.git("checkout", "-q", "main")
    alone = state(repo)
    assert alone[0] != 0 and "||||||| merged common ancestors" in alone[2]
    repo.git("merge", "--abort")
    repo.mergebert("install", check=True)
    assert state(repo) == alone
