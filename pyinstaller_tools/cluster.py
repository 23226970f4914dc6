"""A throwaway local PostgreSQL cluster for the demo, the tests and the benchmarks.

PostgreSQL refuses to run as root. When this process is root, initdb and pg_ctl
run as the unprivileged ``postgres`` OS user (``runuser``) and the data folder
is handed to that user; otherwise they run as the current user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from pyinstaller_tools.interrupts import ctrl_c_deferred

SUPERUSER = "postgres"


class ClusterError(RuntimeError):
    """The local cluster could not be created or started."""


def find_bindir() -> Path:
    """Locate the PostgreSQL server binaries (initdb, pg_ctl)."""
    env = os.environ.get("PG_BINDIR")
    if env:      # set on purpose: never fall back silently to other binaries
        if (Path(env) / "initdb").exists() and (Path(env) / "pg_ctl").exists():
            return Path(env)
        raise ClusterError(f"PG_BINDIR={env} has no initdb and pg_ctl: point it at the server binaries "
                           "(e.g. /usr/lib/postgresql/15/bin), or unset it")
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False,
                             start_new_session=True)    # (see LocalCluster._run)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise ClusterError("PostgreSQL server binaries not found; install postgresql-15 or set PG_BINDIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalCluster:
    """initdb + pg_ctl in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(
        self,
        base_dir: Path | None = None,
        port: int | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.bindir = find_bindir()
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="catalog-sync-pg-"))
        self.data_dir = self.base_dir / "data"
        self.log_file = self.base_dir / "postgresql.log"
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.user = SUPERUSER
        self.settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.base_dir),
            "max_connections": "100",
            "max_locks_per_transaction": "256",
            "shared_buffers": "256MB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "log_min_messages": "warning",
            **(settings or {}),
        }
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        # In a session of its own (as pg_ctl puts the server): a Ctrl-C in the terminal reaches
        # this tool only, which finishes what it runs, then stops the server and removes its files
        # (a Ctrl-C during the stop killed pg_ctl, and the files stayed behind).
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, start_new_session=True)
        if result.returncode != 0:
            raise ClusterError(f"{' '.join(args[:2])} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> LocalCluster:
        # A Ctrl-C waits until the server is up, then stops it: initdb and pg_ctl, in a session of
        # their own, go on when this process is interrupted, and a server left half started is one
        # that stop() cannot stop.
        try:
            with ctrl_c_deferred():
                return self._start()
        except KeyboardInterrupt:
            self.stop()
            raise

    def _start(self) -> LocalCluster:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.base_dir, "postgres", "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            )
        opts = " ".join(f"-c {key}={value}" for key, value in self.settings.items())
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
            "-o", f"-p {self.port} {opts}", "-w", "start",
        )
        return self

    def stop(self, remove: bool = True) -> None:
        with ctrl_c_deferred():    # an interrupted stop left the server's files behind
            if (self.data_dir / "postmaster.pid").exists():
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
            if remove:
                shutil.rmtree(self.base_dir, ignore_errors=True)

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        return f"host={self.host} port={self.port} user={user} dbname={dbname}"

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
