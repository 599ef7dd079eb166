"""A real PostgreSQL 16 + pgvector server for tests, from the binaries the PyPI package `pgserver` bundles.

PostgreSQL refuses to run as root, so as root the server runs as the unprivileged user careerbot-pg (made
by scripts/setup.sh) on a data directory that user owns; pgserver's Python helper is never called (as root
it creates users and opens parent directories). The server listens on a free 127.0.0.1 port over TCP only
and is stopped by its own PID. Usage: engine = PgEngine.start(); url = engine.database("t1"); engine.stop()
"""
from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

USER = "careerbot-pg"


class EngineUnavailable(Exception):
    """Why the engine cannot start here (tests skip with this reason)."""


def bin_dir() -> Path:
    spec = importlib.util.find_spec("pgserver")  # finds the package without importing (running) it
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("pgserver is not installed (it ships PostgreSQL + pgvector): "
                                "scripts/setup.sh test installs it")
    path = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    if not (path / "initdb").is_file():
        raise EngineUnavailable(f"pgserver has no PostgreSQL binaries at {path}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgEngine:
    def __init__(self, data: Path, port: int, as_user: list[str]) -> None:
        self.data, self.port, self._as_user = data, port, as_user
        self.bin = bin_dir()

    @classmethod
    def start(cls) -> PgEngine:
        as_user: list[str] = []
        owner = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(USER)
            except KeyError as exc:
                raise EngineUnavailable(f"running as root and there is no user {USER} to run PostgreSQL as: "
                                        "scripts/setup.sh test creates it") from exc
            as_user = ["runuser", "-u", USER, "--"]
        root = Path(tempfile.mkdtemp(prefix="careerbot-pg-", dir="/tmp"))
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        engine = cls(root, free_port(), as_user)
        if as_user and subprocess.run([*as_user, "test", "-x", str(engine.bin / "initdb")]).returncode:
            # The virtualenv sits under a directory that user cannot enter (e.g. /root): run a copy.
            # The binaries find their libraries at $ORIGIN/../../../pgserver.libs: keep that layout.
            package = engine.bin.parent.parent
            copy = root / "pg" / package.name / "pginstall"
            shutil.copytree(engine.bin.parent, copy, symlinks=True)
            libs = package.parent / f"{package.name}.libs"
            if libs.is_dir():
                shutil.copytree(libs, root / "pg" / libs.name, symlinks=True)
            for path in (root / "pg", root / "pg" / package.name):
                os.chmod(path, 0o755)
            engine.bin = copy / "bin"
        engine._initdb()
        engine._pg_ctl_start()
        return engine

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as_user, *args], capture_output=True, text=True, timeout=timeout,
                              cwd=self.data)

    def _initdb(self) -> None:
        done = self._run(str(self.bin / "initdb"), "-D", str(self.data / "data"), "-U", "postgres",
                         "--auth=trust", "--encoding=utf8", "--no-instructions")
        if done.returncode:
            self._cleanup()
            raise EngineUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")

    def _pg_ctl_start(self) -> None:
        # fsync off: tests kill writers, never the server, and need no durability across power loss.
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        done = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data / "data"), "-w", "-t", "60",
                         "-l", str(self.data / "server.log"), "-o", options, "start", timeout=90)
        if done.returncode:
            log_file = self.data / "server.log"
            log = log_file.read_text(errors="replace")[-800:] if log_file.exists() else ""
            self._cleanup()
            raise EngineUnavailable(f"PostgreSQL did not start: {done.stderr.strip()[-300:]} {log}")

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "data" / "postmaster.pid").read_text().split("\n")[0])
        except (OSError, ValueError):
            return None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self, name: str) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def clone(self, template: str, name: str) -> str:
        """A copy of database `template` (its readers are disconnected first); the copy's URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (template,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def stop(self) -> None:
        pid = self.pid
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data / "data"), "-w", "-m", "fast", "stop")
        if pid is not None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._cleanup()

    def _cleanup(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
