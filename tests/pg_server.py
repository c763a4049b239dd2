"""A throwaway PostgreSQL server for the test suite: initdb in a temporary folder, started on a free port
from the system's binaries (Debian's postgresql package), stopped and deleted at the end.

The suite owns it, so it may run without durability (fsync off: a crash loses only test data) and the
load test may restart it without disturbing anybody else's server. PostgreSQL refuses to run as root;
as root every command runs as the `postgres` system user that Debian's package creates."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# durability traded for speed: the data lives as long as one test run
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200",
                 "shared_buffers=128MB")


class NoPostgres(RuntimeError):
    """The machine has no PostgreSQL server binaries."""


def binaries() -> Path:
    """The newest installed server's bin folder (/usr/lib/postgresql/<version>/bin on Debian)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise NoPostgres("no PostgreSQL server binaries (initdb) on this machine: `make postgres-deps` installs "
                     "Debian's postgresql package, or set SALESFLOW_TEST_DATABASE_URL to an existing server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ThrowawayServer:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/test"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @classmethod
    def of_this_run(cls) -> ThrowawayServer | None:
        """The throwaway server this test run started (its folder and port are in the environment)."""
        folder = os.environ.get("SALESFLOW_TEST_PG_FOLDER")
        url = os.environ.get("SALESFLOW_TEST_DATABASE_URL", "")
        if not folder or not url:
            return None
        return cls(Path(folder), int(url.rsplit(":", 1)[1].split("/", 1)[0]))

    @classmethod
    def start_new(cls) -> ThrowawayServer:
        bin_dir = binaries()
        folder = Path(tempfile.mkdtemp(prefix="salesflow-pg-"))
        server = cls(folder, free_port())
        server._chown()
        server._run(bin_dir / "initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust",
                    "--encoding=UTF8", "--locale=C", "--no-sync")
        server._pg_ctl("start")
        server._run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "test")
        return server

    def restart(self) -> None:
        """What the load test does to prove nothing acknowledged is lost; only this server is touched."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if not self.data.exists():
            return
        try:
            self._pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = " ".join(f"-c {setting}" for setting in FAST_SETTINGS)
        options += f" -p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self._run(binaries() / "pg_ctl", action, "-D", str(self.data), "-w", "-t", "60",
                  "-l", str(self.folder / "server.log"), "-o", options, *extra)

    def _chown(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, *command: object) -> None:
        argv = [str(part) for part in command]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if result.returncode:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}{tail}")
