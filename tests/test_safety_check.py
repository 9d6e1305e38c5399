"""git's cleanly merged lines are never altered: mergebert finds conflicts with its own line merge (Myers),
but `git merge` merges with the ort strategy (histogram), which can merge cleanly lines that mergebert
puts inside a conflict. Where a resolution would change such lines (or leave them inside a conflict), the
file gets git's own merge, with the reason on the driver's line; where git's clean lines all come out
unchanged, the resolution is kept."""

from __future__ import annotations

from gitrepo import GitRepo

# Minimised from a real merge. ours re-indents the `plot(...)` call and drops two blank lines; theirs
# rewrites the block. ort keeps theirs' `scaleX` lines clean, after the conflict; mergebert's line merge
# (Myers) makes them part of its conflict's theirs side, and the token merge's resolution applies ours'
# re-indent to them.
BASE = """

    });

  var days = svg.append('g');
  draw(function() {
    plot(week, opts.view, days,
      width, height, {
      bars: true,
      labels: {
        'anchor': 'middle',
        text: function(d) {
          return d.label[0];
  });

}
"""
OURS = """    });
  var days = svg.append('g');
  draw(function() {
    plot(week, opts.view, days,
      width, height, {
        bars: true,
        labels: {
          'anchor': 'middle',
          text: function(d) {
            return d.label[0];
      });

}
"""
THEIRS = """    });
    if (ready) {
      end();
    }
      var bottom = Math.floor(height - 10);

      var top = height / 2 - 20;

      scaleX
        .domain(extent(values, function(d) {
          return d.ts;
        }))
        .range([0, width]);
}
"""
CLEAN = b"""
      scaleX
        .domain(extent(values, function(d) {
          return d.ts;
        }))
        .range([0, width]);
}
"""
REASON = "a resolution would change lines git merged cleanly; kept git's line merge"


def test_a_resolution_that_would_change_gits_clean_lines_gives_gits_merge(repo: GitRepo) -> None:
    repo.diverge("chart.js", BASE, OURS, THEIRS)
    git_alone, with_driver, stderr = repo.merge_both_ways("chart.js", "merge", "--no-edit", "feature")
    assert git_alone.endswith(b">>>>>>> feature\n" + CLEAN)  # ort merges the scaleX lines cleanly
    assert with_driver == git_alone
    assert f"chart.js: resolved 0 of 1 conflict (1 left: {REASON}; mergebert review)" in stderr
    assert repo.conflicted() == ["chart.js"]


def lines(*body: str) -> str:
    return "".join(f"{line}\n" for line in body)


def test_a_resolution_that_keeps_gits_clean_lines_is_kept(repo: GitRepo) -> None:
    keep = [f"  var k{i} = {i};" for i in range(4)]
    base = lines("function f() {", "  g(1, 2);", *keep, "  var x = 1;", *keep, "}")
    ours = lines("function f() {", "  g(10, 2);", *keep, "  var x = 2;", *keep, "}")
    theirs = lines("function f() {", "  g(1, 20);", *keep, "  var x = 3;", *keep, "}")
    repo.diverge("f.js", base, ours, theirs)
    git_alone, with_driver, stderr = repo.merge_both_ways("f.js", "merge", "--no-edit", "feature")
    ours_block = b"<<<<<<< HEAD\n  g(10, 2);\n=======\n  g(1, 20);\n>>>>>>> feature\n"
    assert ours_block in git_alone
    assert with_driver == git_alone.replace(ours_block, b"  g(10, 20);\n")
    assert "f.js: resolved 1 of 2 conflicts (1 left" in stderr
    assert "lines git merged cleanly" not in stderr


def test_all_conflicts_resolved_keeping_gits_clean_lines_is_kept(repo: GitRepo) -> None:
    keep = [f"  var k{i} = {i};" for i in range(4)]
    base = lines("function f() {", "  g(1, 2);", *keep, "  h(1, 2);", *keep, "}")
    ours = lines("function f() {", "  g(10, 2);", *keep, "  h(10, 2);", *keep, "}")
    theirs = lines("function f() {", "  g(1, 20);", *keep, "  h(1, 20);", *keep, "}")
    repo.diverge("f.js", base, ours, theirs)
    _, with_driver, stderr = repo.merge_both_ways("f.js", "merge", "--no-edit", "feature")
    assert with_driver == lines("function f() {", "  g(10, 20);", *keep, "  h(10, 20);", *keep, "}").encode()
    assert "f.js: resolved 2 of 2 conflicts" in stderr


# ort's merge (histogram) conflicts where mergebert's line merge (Myers) merges cleanly: what git alone
# leaves for the user to decide is left so, as the Python driver is reached wherever `git merge-file`
# conflicts too (git 2.44 and later, `--diff-algorithm=histogram`) or where it is configured by hand
ORT_CONFLICTS_MYERS_CLEAN = ("}\n\n{\n{\n{\n{\nx = 1;\n", "}\n\n{\n\n{\n{\n{\n", "}\n\n{\n{\n{\n{\n")


def test_where_only_gits_merge_conflicts_the_file_is_gits_merge(repo: GitRepo) -> None:
    repo.diverge("f.js", *ORT_CONFLICTS_MYERS_CLEAN)
    assert repo.git("merge", "--no-edit", "feature", check=False).returncode == 1
    alone = repo.read("f.js")
    repo.git("merge", "--abort")
    repo.use_driver(command="mergebert driver %O %A %B %L %P")
    driven = repo.git("merge", "--no-edit", "feature", check=False)
    assert (driven.returncode, repo.read("f.js"), repo.conflicted()) == (1, alone, ["f.js"])
