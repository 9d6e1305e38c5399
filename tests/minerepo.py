"""Build git histories with exactly the merges a test wants, straight through pygit2 (no work tree)."""

from __future__ import annotations

import pygit2
from pygit2.enums import FileMode

Files = dict[str, str | bytes]


class HistoryBuilder:
    """Commits are whole trees given as {path: content}; each commit is one second after the last."""

    def __init__(self, path: str, origin: str | None = None) -> None:
        self.repo = pygit2.init_repository(path, bare=True)
        if origin:
            self.repo.remotes.create("origin", origin)
        self.time = 1_700_000_000

    def commit(self, files: Files, *parents: pygit2.Oid, message: str = "commit") -> pygit2.Oid:
        index = pygit2.Index()
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            index.add(pygit2.IndexEntry(name, self.repo.create_blob(data), FileMode.BLOB))
        tree = index.write_tree(self.repo)
        self.time += 1
        who = pygit2.Signature("Dev", "dev@example.com", self.time, 60)
        return self.repo.create_commit(None, who, who, message, tree, list(parents))

    def merge(self, base: Files, ours: Files, theirs: Files, resolved: Files) -> pygit2.Oid:
        """base → ours and base → theirs, merged into resolved; returns the merge commit.

        Each side also edits a notes file of its own, which the merge keeps, so that the merge
        never equals one parent verbatim.
        """
        root = self.commit({**base, "ours.md": "", "theirs.md": ""})
        left = self.commit({**ours, "ours.md": "ours\n", "theirs.md": ""}, root)
        right = self.commit({**theirs, "ours.md": "", "theirs.md": "theirs\n"}, root)
        return self.commit({**resolved, "ours.md": "ours\n", "theirs.md": "theirs\n"}, left, right)

    def ref(self, name: str, target: pygit2.Oid) -> None:
        """Point a full ref name (refs/heads/main, refs/pull/1/head, ...) at a commit."""
        self.repo.references.create(name, target, force=True)


def many_merges(path: str, merges: int) -> None:
    """A history of `merges` merges, each resolving a conflict in each of four Java files."""
    head, tail = "class P {\n  void f() {\n    start();\n", "    end();\n  }\n}\n"
    builder = HistoryBuilder(path)
    for i in range(merges):
        sides = ({f"F{k}.java": head + f"    {s}{i}_{k}();\n" + tail for k in range(4)} for s in "xaba")
        builder.ref(f"refs/heads/m{i}", builder.merge(*sides))
