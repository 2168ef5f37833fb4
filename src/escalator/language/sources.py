"""THE place that turns "where are the policies" into folders.

Every command, the Engine, policy tests, checks and impact go through here.
A source names the user's policy folder and (optionally) rule folder; the
bundled policies and rule packs always lie beneath them as a library that a
user's policy can `extends: escalator:uk` and whose packs it can select by name
(see `escalator.language.loading.load_layers`).

Spellings:

- `DIR` holding `policies/` (and perhaps `rules/`): an operator's policy repository.
- `DIR` holding policy files: the policies folder itself; its rule packs are
  `DIR/rules/` if present, else a `rules/` folder beside it, else none of its own.
- `POLICIES,RULES`: the two folders named explicitly.
- `bundled` (or no folder at all in the library): the policies and packs shipped with escalator.
- `git:REV`: `policies/` and `rules/` as they are at revision REV of the git repository
  (`--repo`, default the current directory), read with `git archive` into a temporary
  folder, so the working tree, index and HEAD are never touched.

In an installed wheel the bundled files live in `escalator/_bundled/`; in a source
checkout they are the top-level `rules/` and `policies/` folders.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from escalator.errors import LoadError, Problem

GIT_PREFIX = "git:"
BUNDLED_PREFIX = "escalator:"
"""`extends: escalator:uk` / `packs: [escalator:bonus]` name a bundled policy or pack explicitly."""

_PACKAGE = Path(__file__).resolve().parent.parent  # the escalator package


def bundled_dir(name: str) -> Path:
    """`rules` or `policies`, as shipped with this copy of escalator."""
    installed = _PACKAGE / "_bundled" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parents[1] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the bundled {name}/ folder is missing from this installation")


def is_bundled(folder: Path | None, name: str) -> bool:
    """Whether `folder` is the bundled `name` folder itself (then there is nothing to layer)."""
    if folder is None:
        return False
    try:
        return Path(folder).resolve() == bundled_dir(name).resolve()
    except FileNotFoundError:
        return False


@dataclass(frozen=True)
class PolicySource:
    """Resolved folders plus a label for reports (the spec as the user wrote it)."""

    label: str
    policies: Path
    rules: Path | None  # None: no rule packs of its own (the bundled packs are still there by name)
    revision: str | None = None  # the commit a git: source resolved to
    _cleanup: tuple[Path, ...] = field(default=(), repr=False, compare=False)


def _error(message: str, hint: str | None = None) -> LoadError:
    return LoadError(Problem(message, code="E-SOURCE", hint=hint))


def locate(policies: str | Path | None = None, rules: str | Path | None = None,
           label: str | None = None) -> PolicySource:
    """Folders for a policy argument and an optional rule argument (None, None: the bundled ones)."""
    if policies is None:
        if rules is not None:
            return PolicySource(label or str(rules), bundled_dir("policies"), Path(rules))
        return PolicySource(label or "bundled", bundled_dir("policies"), bundled_dir("rules"))
    root = Path(policies)
    shown = label or str(policies)
    if not root.is_dir():
        raise _error(f"{root}: no such folder",
                     "give a folder of policy files, a folder holding policies/, POLICIES,RULES, bundled or git:REV")
    if rules is not None:
        if not Path(rules).is_dir():
            raise _error(f"{rules}: no such rules folder")
        return PolicySource(shown, root, Path(rules))
    if (root / "policies").is_dir():
        own = root / "rules"
        return PolicySource(shown, root / "policies", own if own.is_dir() else None)
    for candidate in (root / "rules", root.parent / "rules"):
        if candidate.is_dir() and candidate.resolve() != root.resolve():
            return PolicySource(shown, root, candidate)
    return PolicySource(shown, root, None)


_POLICY_LINE = re.compile(rb"^policy\s*:", re.MULTILINE)


def holds_policies(folder: Path) -> bool:
    """Whether a folder has a policy file directly in it (a top-level `policy:` line), cheaply."""
    try:
        files = [p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file()]
    except OSError:
        return False
    for path in files:
        try:
            if _POLICY_LINE.search(path.read_bytes()[:65536]):
                return True
        except OSError:
            continue
    return False


def default_source(cwd: str | Path | None = None) -> PolicySource:
    """What a command uses when given no folder: `./policies` (with `./rules`) if present, else bundled."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    if (base / "policies").is_dir():
        return locate(base)
    return locate()


def _folder_source(spec: str) -> PolicySource:
    if spec == "bundled":
        return locate()
    if "," in spec:
        policies_text, rules_text = (part.strip() for part in spec.split(",", 1))
        policies, rules = Path(policies_text), Path(rules_text)
        for path in (policies, rules):
            if not path.is_dir():
                raise _error(f"{path} is not a folder", "write POLICIES_DIR,RULES_DIR")
        return PolicySource(spec, policies, rules)
    return locate(spec)


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
    rules = tmp / "rules" if "rules" in wanted else None
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
