"""The live policy set, and swapping in a new one without a request ever seeing half of it.

A `LiveSet` is immutable: an Engine, its set digest and the files it was built from.
The holder keeps one reference; a request reads it once (`holder.live`) and uses that
set for everything it does, so it is decided wholly by the old or wholly by the new
set. A reload builds and validates the new set first; only a set that loads cleanly
replaces the old (one reference assignment, atomic in Python); a bad set raises and
the old one keeps serving.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from escalator.language.policyset import compile_folders
from escalator.log.record import now_iso, policy_set_digest, snapshot
from escalator.runtime.engine import Engine

MAX_LOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class LiveSet:
    engine: Engine
    digest: str
    files: dict[str, str] = field(repr=False)
    loaded_at: str


def load_set(policies: Path, rules: Path, backend: str = "auto") -> LiveSet:
    """Compile the folders into a LiveSet whose `files` are exactly what was compiled
    (read before and after compiling; a folder that changed meanwhile is read again)."""
    for _ in range(MAX_LOAD_ATTEMPTS):
        before = snapshot(policies, rules)
        compiled = compile_folders(policies, rules)
        if snapshot(policies, rules) == before:
            break
    engine = Engine(compiled, backend)
    return LiveSet(engine, policy_set_digest(engine.policies), before, now_iso())


class PolicyHolder:
    """Holds the live set; reloads are serialised, reads never wait."""

    def __init__(self, policies: Path, rules: Path, backend: str = "auto",
                 on_swap: Callable[[LiveSet], None] | None = None):
        self.policies, self.rules, self.backend = policies, rules, backend
        self._on_swap = on_swap
        self._lock = threading.Lock()
        self._live = load_set(policies, rules, backend)
        if on_swap is not None:
            on_swap(self._live)

    @property
    def live(self) -> LiveSet:
        return self._live

    def reload(self) -> tuple[LiveSet, LiveSet]:
        """Load the folders again; (previous, now live). A bad set raises EscalatorError
        and nothing changes. The old Engine is not closed: requests may still use it."""
        with self._lock:
            new = load_set(self.policies, self.rules, self.backend)
            if self._on_swap is not None:
                self._on_swap(new)  # e.g. store the set's files in the log before any decision uses it
            old, self._live = self._live, new
            return old, new

    def folder_signature(self) -> tuple[tuple[str, int, int], ...]:
        """Names, sizes and modification times of the policy and rule files (for watching)."""
        found = []
        for folder in (self.policies, self.rules):
            for path in sorted(Path(folder).glob("*")):
                if path.is_file():
                    stat = path.stat()
                    found.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(found)


class FolderWatcher:
    """Polls the folders every `interval` seconds and reloads on a change (no extra
    dependency; a few stat calls per second). A bad set is reported through `on_result`."""

    def __init__(self, holder: PolicyHolder, interval: float, reload: Callable[[], object]):
        self.holder, self.interval, self._reload = holder, interval, reload
        self._stop = threading.Event()
        self._seen: tuple[tuple[str, int, int], ...] = ()
        self._thread = threading.Thread(target=self._run, name="escalator-policy-watch", daemon=True)

    def start(self) -> None:
        self._seen = self.holder.folder_signature()  # taken now: a change right after start() counts
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        seen = self._seen
        while not self._stop.wait(self.interval):
            try:
                current = self.holder.folder_signature()
            except OSError:
                continue
            if current != seen:
                seen = current
                time.sleep(min(0.2, self.interval))  # let an editor finish writing
                self._reload()
