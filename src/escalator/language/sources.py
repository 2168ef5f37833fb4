"""Where a policy set comes from, for comparing two of them (`escalator impact`).

A source names a pair of folders (policies/ and rules/):

- `DIR`: a folder holding `policies/` and `rules/` (an operator's policy repository);
  without `rules/` the bundled rule packs are used. A folder of policy files itself
  (no `policies/` inside) is taken as the policies folder, with `../rules` beside it.
- `POLICIES,RULES`: the two folders named explicitly.
- `bundled`: the policies and rule packs shipped with escalator.
- `git:REV`: `policies/` and `rules/` as they are at revision REV of the git repository
  (`--repo`, default the current directory), read with `git archive` into a temporary
  folder, so the working tree, index and HEAD are never touched.

Resolve with `with open_source(spec, repo) as src: Engine.load(src.policies, src.rules)`;
the temporary folder of a git source is removed on exit.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from escalator.errors import LoadError, Problem
from escalator.language.bundled import bundled_dir

GIT_PREFIX = "git:"


@dataclass(frozen=True)
class PolicySource:
    """Resolved folders plus a label for reports (the spec as the user wrote it)."""

    label: str
    policies: Path
    rules: Path
    revision: str | None = None  # the commit a git: source resolved to
    _cleanup: tuple[Path, ...] = field(default=(), repr=False, compare=False)


def _error(message: str, hint: str | None = None) -> LoadError:
    return LoadError(Problem(message, code="E-SOURCE", hint=hint))


def _folder_source(spec: str) -> PolicySource:
    if spec == "bundled":
        return PolicySource(spec, bundled_dir("policies"), bundled_dir("rules"))
    if "," in spec:
        policies_text, rules_text = (part.strip() for part in spec.split(",", 1))
        policies, rules = Path(policies_text), Path(rules_text)
        for path in (policies, rules):
            if not path.is_dir():
                raise _error(f"{path} is not a folder", "write POLICIES_DIR,RULES_DIR")
        return PolicySource(spec, policies, rules)
    root = Path(spec)
    if not root.is_dir():
        raise _error(f"{spec}: no such folder",
                     "give a folder with policies/ and rules/, POLICIES,RULES, bundled or git:REV")
    if (root / "policies").is_dir():
        rules = root / "rules"
        return PolicySource(spec, root / "policies", rules if rules.is_dir() else bundled_dir("rules"))
    sibling = root.parent / "rules"
    return PolicySource(spec, root, sibling if sibling.is_dir() and sibling != root else bundled_dir("rules"))


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise _error("git is not installed; git: sources need it") from None
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"git {args[0]} failed"
        raise _error(f"git {' '.join(args)}: {message}")
    return done.stdout.strip()


def _git_source(spec: str, repo: Path) -> PolicySource:
    rev = spec[len(GIT_PREFIX):].strip()
    if not rev or rev.startswith("-"):
        raise _error(f"{spec!r}: name a revision, e.g. git:HEAD~1 or git:main")
    if not repo.is_dir():
        raise _error(f"--repo {repo}: no such folder")
    try:
        commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except LoadError:
        _git(repo, "rev-parse", "--git-dir")  # says so if repo is not a git repository
        raise _error(f"{spec!r}: no such revision in {repo}") from None
    prefix = _git(repo, "rev-parse", "--show-prefix")  # repo may be a sub-folder of the checkout
    repo = Path(_git(repo, "rev-parse", "--show-toplevel"))  # paths below are relative to the top
    tree = f"{commit}:{prefix.rstrip('/')}" if prefix else commit
    present = set(_git(repo, "ls-tree", "--name-only", tree).splitlines())
    if "policies" not in present:
        where = f"{prefix or '.'} at {rev}"
        raise _error(f"no policies/ folder in {where}", "--repo must point at the folder holding policies/")
    wanted = [name for name in ("policies", "rules") if name in present]
    tmp = Path(tempfile.mkdtemp(prefix="escalator-git-"))
    try:
        _extract(repo, tree, wanted, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    rules = tmp / "rules" if "rules" in wanted else bundled_dir("rules")
    return PolicySource(spec, tmp / "policies", rules, revision=commit, _cleanup=(tmp,))


def _extract(repo: Path, tree: str, names: Sequence[str], into: Path) -> None:
    """`git archive TREE NAMES | tar -x` with Python's tar reader and its safe 'data' filter."""
    errors = tempfile.TemporaryFile()  # not a pipe: git could block on a full stderr pipe nobody reads
    proc = subprocess.Popen(["git", "-C", str(repo), "archive", "--format=tar", tree, "--", *names],
                            stdout=subprocess.PIPE, stderr=errors)
    assert proc.stdout is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                archive.extractall(into, filter="data")
            else:
                for member in archive:  # only plain files and folders, never outside `into`
                    parts = Path(member.name).parts
                    if (member.isfile() or member.isdir()) and ".." not in parts and not Path(member.name).is_absolute():
                        archive.extract(member, into)
    finally:
        # tar stops at the end-of-archive marker; git may still be writing the record padding:
        # read it, or git dies of SIGPIPE and a good archive looks like a failed one (seen under load)
        try:
            while proc.stdout.read(65536):
                pass
        except (OSError, ValueError):
            pass
        proc.stdout.close()
        code = proc.wait()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
        errors.close()
    if code != 0:
        raise _error(f"git archive {tree}: {stderr.strip() or 'failed'}")


def resolve_source(spec: str | Path, repo: str | Path | None = None) -> PolicySource:
    """Resolve a source; the caller must `release()` it (or use `open_source`)."""
    text = str(spec)
    if text.startswith(GIT_PREFIX):
        return _git_source(text, Path(repo) if repo is not None else Path.cwd())
    return _folder_source(text)


def release(source: PolicySource) -> None:
    """Remove the temporary folders a git source was extracted into."""
    for path in source._cleanup:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def open_source(spec: str | Path, repo: str | Path | None = None) -> Iterator[PolicySource]:
    source = resolve_source(spec, repo)
    try:
        yield source
    finally:
        release(source)
