"""The local arena: Xvfb + a window manager + real apps + the desktop server, all on loopback.

Everything started here carries one marker in its environment, so teardown finds and ends every
process of the arena (apps that detach into their own session included) and nothing else.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

from ..polling import PollTimeout, poll_until
from ..processes import terminate_tree
from ..protocol.client import ArenaClient
from .home import seed_home
from .profiles import Profile, write_openbox_config, write_shims
from .profiles import profile as find_profile
from .sandbox import ENV_VAR as SANDBOX_ENV
from .sandbox import Network, Sandbox, make_sandbox, release_account, start_netns_holder

log = logging.getLogger(__name__)

MARKER = "ARENA_GYM_ARENA_ID"
HOME_ALIAS_ENV = "ARENA_GYM_HOME_ALIAS"  # the desktop server maps this prefix onto $HOME (profiles.py)
REQUIRED_TOOLS = {"Xvfb": "xvfb", "xset": "x11-xserver-utils", "wmctrl": "wmctrl", "xdotool": "xdotool"}
WINDOW_MANAGERS = {"openbox": ["openbox", "--sm-disable"]}


class ArenaStartError(RuntimeError):
    """The arena could not start; the message says which part and what to install or check."""


def missing_tools(apps: Sequence[str] = (), wm: str = "openbox") -> list[str]:
    """Debian packages still to install for an arena with these apps."""
    needed = dict(REQUIRED_TOOLS)
    needed[WINDOW_MANAGERS[wm][0]] = wm
    for app in apps:
        needed.setdefault(app, app)
    return sorted({pkg for tool, pkg in needed.items() if shutil.which(tool) is None})


def _read_line(fd: int, deadline: float, what: str, proc: subprocess.Popen[bytes], log_path: Path) -> str:
    """One line from ``fd`` before ``deadline`` (a stage that dies or stalls is reported, not waited on)."""
    buf = b""
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ArenaStartError(f"{what} did not report in time; its log: {log_path}")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise ArenaStartError(f"{what} exited before reporting" + _exit_note(proc, log_path))
            buf += chunk
        elif proc.poll() is not None:
            raise ArenaStartError(f"{what} exited before reporting" + _exit_note(proc, log_path))
    return buf.split(b"\n", 1)[0].decode().strip()


def _exit_note(proc: subprocess.Popen[bytes], log_path: Path) -> str:
    if proc.poll() is None:
        return ""
    try:
        tail = log_path.read_text(errors="replace").strip()[-800:]
    except OSError:
        tail = ""
    return f" (exit {proc.returncode}{': ' + tail if tail else ''})"


def _wait_until(check: Callable[[], object], deadline: float, what: str, interval: float = 0.05) -> None:
    try:
        poll_until(check, deadline - time.monotonic(), deadline=deadline, interval=interval, what=what)
    except PollTimeout:
        raise ArenaStartError(f"{what} not ready in time") from None


def _marked_pids(marker: str) -> list[int]:
    needle = f"{MARKER}={marker}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


class LocalArena:
    """A desktop on a free X display with a desktop server on a free loopback port.

    >>> with LocalArena(apps=["xterm"]) as arena:
    ...     frame = arena.client.screenshot()
    """

    def __init__(
        self,
        size: tuple[int, int] = (1280, 800),
        apps: Sequence[str | Sequence[str]] = ("xterm",),
        wm: str = "openbox",
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        home: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
        keep_workdir: bool = False,
        accessibility: bool = True,
        allowed_hosts: Sequence[str] = (),
        supervise: bool = True,
        sandbox: bool = True,
        network: Network = "none",
        profile: str = "minimal",
    ) -> None:
        if wm not in WINDOW_MANAGERS:
            raise ValueError(f"unknown window manager {wm!r}; known: {', '.join(WINDOW_MANAGERS)}")
        if len(size) != 2 or min(size) < 64:
            raise ValueError(f"size must be (width, height) of at least 64 px each, got {size!r}")
        self.size = (int(size[0]), int(size[1]))
        self.profile: Profile = find_profile(profile)
        self.apps = [[a] if isinstance(a, str) else list(a) for a in apps]
        self.wm, self.host, self.port, self.token = wm, host, port, token
        self.startup_timeout = startup_timeout
        self.keep_workdir = keep_workdir
        self.accessibility = accessibility
        self.allowed_hosts = list(allowed_hosts)
        self.supervise = supervise
        self.use_sandbox = sandbox
        self.network: Network = network
        self.sandbox: Sandbox | None = None  # set at start when one can be made here (see sandbox.py)
        self.bus_address: str | None = None
        self._home_arg = Path(home) if home else None
        self.id = uuid.uuid4().hex[:12]
        self.display: str | None = None
        self.url: str | None = None
        self.workdir: Path | None = None
        self.home: Path | None = None
        self._client: ArenaClient | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._server: subprocess.Popen[bytes] | None = None
        self._display_proc: subprocess.Popen[bytes] | None = None
        self._wm_proc: subprocess.Popen[bytes] | None = None
        self._heal_lock = threading.RLock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    # ---- life cycle
    def start(self) -> LocalArena:
        missing = missing_tools([a[0] for a in self.apps], self.wm)
        missing = sorted({*missing, *self.profile.missing().values()}) if self.profile.name != "minimal" else missing
        if missing:
            hint = " --osworld" if self.profile.name == "osworld" else ""
            raise ArenaStartError(
                f"missing programs of app profile {self.profile.name!r}; install them with: apt-get install -y "
                f"{' '.join(missing)} (or run bash scripts/setup.sh{hint} as root)"
            )
        self.workdir = Path(tempfile.mkdtemp(prefix=f"arena-gym-{self.id}-"))
        self.home = self._home_arg or self.workdir / "home"
        seed_home(self.home, self.profile.name)
        self._write_shims()
        runtime = self.workdir / "run"
        runtime.mkdir(mode=0o700)
        (self.workdir / "logs").mkdir()
        atexit.register(self.stop)
        _exit_on_sigterm()
        try:
            deadline = time.monotonic() + self.startup_timeout
            if self.use_sandbox:
                self.sandbox = self._make_sandbox(deadline)
                if self.sandbox is not None:
                    self.sandbox.own(runtime)
            if self.profile.home_alias and self.sandbox is None:
                log.warning("app profile %s: without the sandbox (it needs root) apps do not see the home at %s; "
                            "only the desktop server's file routes map it", self.profile.name, self.profile.home_alias)
            self._start_display(deadline)
            self.bus_address = self._start_session_bus(deadline)
            self.env = self._environment(runtime)
            if self.accessibility and self.bus_address:
                self._enable_accessibility()
            self._run_quiet(["xset", "s", "off", "s", "noblank"])  # Xvfb runs without DPMS (-dpms)
            self._wm_proc = self._spawn(self._wm_argv())
            _wait_until(lambda: self._run_quiet(["wmctrl", "-m"]) == 0, deadline, f"window manager {self.wm}")
            for app in self.apps:
                self._spawn(app, untrusted=True)
            self._start_server(deadline)
        except BaseException:
            self.stop()
            raise
        if self.supervise:
            self._stopping.clear()
            self._supervisor = threading.Thread(target=self._supervise, name=f"arena-{self.id}-supervisor",
                                                daemon=True)
            self._supervisor.start()
        log.info("arena %s: display %s, server %s", self.id, self.display, self.url)
        return self

    def _wm_argv(self) -> list[str]:
        """The window manager's command, with the profile's key bindings when it has any."""
        argv = list(WINDOW_MANAGERS[self.wm])
        if not self.profile.terminal_shortcut or self.workdir is None:
            return argv
        config = self.workdir / "openbox-rc.xml"
        if not config.exists():
            # The terminal is an app: it runs in the sandbox, like every program an agent can drive.
            write_openbox_config(config, self._wrap(["xterm", "-title", "Terminal"]))
        return [*argv, "--config-file", str(config)]

    def _write_shims(self) -> None:
        assert self.workdir is not None
        write_shims(self.profile, self.workdir / "bin")

    def _environment(self, runtime: Path) -> dict[str, str]:
        if self.home is None:
            raise RuntimeError("the arena's home is made in start(); _environment() came before it")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "WAYLAND_"))}
        env.update({
            MARKER: self.id, "DISPLAY": self.display or "", "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(runtime), "XDG_SESSION_TYPE": "x11", "GSETTINGS_BACKEND": "keyfile",
            "XDG_CONFIG_HOME": str(self.home / ".config"), "XDG_DATA_HOME": str(self.home / ".local/share"),
            # Task commands say "python -c 'import pyautogui ...'": make that this interpreter.
            "PATH": os.pathsep.join([str(self.workdir / "bin") if self.workdir else "", os.path.dirname(sys.executable),
                                     os.environ.get("PATH", "")]).lstrip(os.pathsep),
        })
        if self.profile.home_alias:
            env[HOME_ALIAS_ENV] = self.profile.home_alias
        env.update(self.profile.env)
        if self.bus_address:
            env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address
        if not (self.accessibility and self.bus_address):
            env["NO_AT_BRIDGE"] = "1"  # no bus to bridge to: spare GTK apps the attempt and its warnings
        return env

    def _make_sandbox(self, deadline: float) -> Sandbox | None:
        assert self.workdir is not None and self.home is not None
        netns = None
        if self.network == "none" and os.geteuid() == 0 and shutil.which("unshare"):
            env = {**os.environ, MARKER: self.id}
            holder = start_netns_holder(env)
            self._procs.append(holder)
            ours = os.stat("/proc/self/ns/net").st_ino
            path = f"/proc/{holder.pid}/ns/net"
            _wait_until(lambda: os.path.exists(path) and os.stat(path).st_ino != ours, deadline, "the sandbox's netns")
            netns = path
        return make_sandbox(self.workdir, self.home, self.network, netns, self.profile.home_alias)

    def _wrap(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as the arena runs untrusted programs: in its sandbox when it has one."""
        return self.sandbox.wrap(list(argv)) if self.sandbox is not None else list(argv)

    def _start_session_bus(self, deadline: float) -> str | None:
        """A D-Bus session bus of the arena's own. Without it apps autolaunch one that outlives the arena,
        arenas side by side would share one, and AT-SPI (the accessibility tree) has nowhere to live."""
        if shutil.which("dbus-daemon") is None:
            log.info("dbus-daemon not installed (apt-get install dbus): no session bus, no accessibility tree")
            return None
        # The bus runs as the sandbox's account (a session bus lets only its own user in) and listens on a
        # socket file in the arena's runtime folder, reachable from the sandbox's network namespace.
        assert self.workdir is not None
        address = f"unix:path={self.workdir / 'run' / 'bus'}"
        _, printed = self._start_reporting(
            lambda fd: self._wrap(["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address={address}",
                                   f"--print-address={fd}"]),
            "dbus-daemon", deadline)
        return printed

    def _enable_accessibility(self) -> None:
        """Switch AT-SPI on (org.a11y.Status.IsEnabled), which starts its bus; apps started later join it."""
        if shutil.which("gdbus") is None:
            log.info("gdbus not installed (apt-get install libglib2.0-bin): accessibility stays off")
            return
        rc = self._run_quiet(self._wrap(["gdbus", "call", "--session", "--dest", "org.a11y.Bus", "--object-path",
                                         "/org/a11y/bus", "--method", "org.freedesktop.DBus.Properties.Set",
                                         "org.a11y.Status", "IsEnabled", "<true>"]))
        if rc != 0:
            log.info("could not enable AT-SPI (is at-spi2-core installed?): the accessibility tree stays empty")

    def _xvfb_args(self) -> list[str]:
        # -noreset: without it Xvfb resets when its last client leaves, and a client connecting
        # during that reset (the window manager, right after xset) is refused.
        return ["-screen", "0", f"{self.size[0]}x{self.size[1]}x24", "-nolisten", "tcp", "-s", "0", "-dpms",
                "-noreset", "+extension", "XTEST"]

    def _start_display(self, deadline: float) -> None:
        self._display_proc, number = self._start_reporting(
            lambda fd: ["Xvfb", "-displayfd", str(fd), *self._xvfb_args()], "Xvfb", deadline)
        self.display = f":{number}"

    # ---- healing
    def heal(self, server: bool = True) -> list[str]:
        """Restart what died: the display (on the same number, so the server's $DISPLAY still holds),
        then the window manager and the apps that went with it, and (``server``) the desktop server.
        Returns what was restarted (empty when all was well)."""
        with self._heal_lock:
            if self.display is None or self._display_proc is None:
                return []
            restarted = []
            deadline = time.monotonic() + self.startup_timeout
            if self._display_proc.poll() is not None:
                self._restart_display(deadline)
                restarted.append("display")
            if restarted or self._wm_proc is None or self._wm_proc.poll() is not None:
                self._restart_wm(deadline)
                restarted.append("window manager")
            if "display" in restarted:
                for app in self.apps:
                    self._spawn(app, untrusted=True)
            if server and self._server is not None and self._server.poll() is not None:
                self.restart_server()
                restarted.append("desktop server")
            if restarted:
                log.warning("arena %s: restarted %s", self.id, ", ".join(restarted))
            return restarted

    def _restart_wm(self, deadline: float) -> None:
        """Start the window manager again. One started while the X server still holds the old one's
        selections exits at once ("another window manager is running"): start it again until it stays."""
        def ready() -> bool:
            if self._display_proc is not None and self._display_proc.poll() is not None:
                raise ArenaStartError("the display died while the window manager started; the next round restarts it")
            if self._wm_proc is None or self._wm_proc.poll() is not None:
                self._wm_proc = self._spawn(self._wm_argv())
                return False
            return self._run_quiet(["wmctrl", "-m"]) == 0

        self._wm_proc = None
        _wait_until(ready, deadline, f"window manager {self.wm}", interval=0.2)

    def _restart_display(self, deadline: float) -> None:
        """Start Xvfb again on the same number. A helper of the killed server (xkbcomp) can hold its
        listening socket for a moment, and the new server then exits at once: try again until it stays."""
        number = (self.display or ":0").lstrip(":")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS_")}
        env[MARKER] = self.id

        def started() -> bool:
            if self._display_proc is not None and self._display_proc.poll() is None:
                return self._run_quiet(["xset", "q"]) == 0
            # A display killed hard leaves its lock and socket behind; a new Xvfb refuses the number then.
            for stale in (Path(f"/tmp/.X{number}-lock"), Path(f"/tmp/.X11-unix/X{number}")):
                stale.unlink(missing_ok=True)
            with open(self._log_path("Xvfb"), "ab") as log_file:
                proc = subprocess.Popen(["Xvfb", f":{number}", *self._xvfb_args()], env=env, start_new_session=True,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file)
            self._procs.append(proc)
            self._display_proc = proc
            return False

        self._display_proc = None
        _wait_until(started, deadline, f"display :{number}", interval=0.1)
        self._run_quiet(["xset", "s", "off", "s", "noblank"])

    def _supervise(self) -> None:
        """Heal the display and the window manager, every half second, until the arena stops. (A dead
        server is restarted by whoever reconnects to it: tests kill it on purpose.)"""
        while not self._stopping.wait(0.5):
            try:
                self.heal(server=False)
            except Exception as exc:  # noqa: BLE001 - keep supervising; the next round tries again
                log.warning("arena %s: healing failed: %s", self.id, exc)

    def _start_reporting(self, argv_for: Callable[[int], list[str]], name: str,
                         deadline: float) -> tuple[subprocess.Popen[bytes], str]:
        """Start a daemon that reports where it listens on a file descriptor; return it and that line."""
        read_fd, write_fd = os.pipe()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS_")}
        env[MARKER] = self.id
        log_path = self._log_path(name)
        try:
            with open(log_path, "wb") as log_file:
                proc = subprocess.Popen(
                    argv_for(write_fd), pass_fds=(write_fd,), env=env, start_new_session=True,
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file,
                )
            self._procs.append(proc)
            os.close(write_fd)
            write_fd = -1
            return proc, _read_line(read_fd, deadline, name, proc, log_path)
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)

    def _log_path(self, name: str) -> Path:
        assert self.workdir is not None
        return self.workdir / "logs" / f"{Path(name).name}.log"

    def _spawn(self, argv: Sequence[str], untrusted: bool = False) -> subprocess.Popen[bytes]:
        """Start a program of the arena's; ``untrusted`` ones (apps: what an agent drives) in the sandbox."""
        with open(self._log_path(argv[0]), "ab") as log_file:
            proc = subprocess.Popen(
                self._wrap(argv) if untrusted else list(argv), env=self.env, cwd=str(self.home), start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            )
        self._procs.append(proc)
        return proc

    def _run_quiet(self, argv: list[str]) -> int:
        return subprocess.run(argv, env=self.env, capture_output=True, timeout=10, check=False).returncode

    def _start_server(self, deadline: float) -> None:
        argv = [sys.executable, "-m", "arena_gym.server", "--host", self.host, "--port", str(self.port)]
        for name in self.allowed_hosts:
            argv += ["--allowed-host", name]
        env = dict(self.env)
        if self.token:
            env["ARENA_TOKEN"] = self.token
        if self.sandbox is not None:
            env[SANDBOX_ENV] = self.sandbox.to_env()
        log_path = self._log_path("server")
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                argv, env=env, cwd=str(self.home), start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file,
            )
        self._procs.append(proc)
        self._server = proc
        assert proc.stdout is not None
        line = _read_line(proc.stdout.fileno(), deadline, "desktop server", proc, log_path)
        try:
            self.url = json.loads(line)["url"]
        except (ValueError, KeyError) as exc:
            raise ArenaStartError(f"desktop server said {line!r}, not its URL") from exc
        # Nothing more comes on stdout (the log goes to stderr): close it so nothing can block.
        proc.stdout.close()

    def stop(self) -> None:
        """End every process of this arena (idempotent) and remove its scratch folder."""
        self._stopping.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=30)
            self._supervisor = None
        if self._client is not None:
            self._client.close()
            self._client = None
        _teardown(self.id, self._procs, None if self.keep_workdir else self.workdir)
        self._procs = []
        self._server = None
        if self.sandbox is not None:
            # Whatever of its account still runs (a program that dropped the arena's marker) ends here, so
            # the next arena to take the account starts with none of this one's programs.
            for proc in psutil.process_iter(["uids"]):
                if proc.info["uids"] is not None and proc.info["uids"].real == self.sandbox.uid:
                    terminate_tree(proc.pid, grace_s=1.0)
            release_account(self.sandbox.uid)
            self.sandbox = None
        atexit.unregister(self.stop)

    def pids(self) -> dict[str, int]:
        """Process ids of the arena's own parts: ``server``, ``display``, ``wm`` (those running)."""
        parts = {"server": self._server, "display": self._display_proc, "wm": self._wm_proc}
        return {name: p.pid for name, p in parts.items() if p is not None and p.poll() is None}

    def auth_headers(self) -> dict[str, str]:
        """The header a client sends to this arena's server (none when it has no token)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def restart_server(self) -> None:
        """Kill the desktop server and start a fresh one on the same port (its apps stay)."""
        with self._heal_lock:
            self.kill_server()
            assert self.url is not None
            self.port = int(self.url.rsplit(":", 1)[1])
            self._start_server(time.monotonic() + self.startup_timeout)

    @property
    def server_pid(self) -> int | None:
        """The desktop server's process id (for fault tests and benches that stop or kill it)."""
        return self._server.pid if self._server is not None else None

    def kill_server(self) -> None:
        """Kill only the desktop server (for fault tests); the display and apps stay up."""
        if self._server is not None and self._server.poll() is None:
            self._server.kill()
            self._server.wait(timeout=10)

    # ---- conveniences
    @property
    def client(self) -> ArenaClient:
        if self.url is None:
            raise RuntimeError("the arena is not started; call start() or use it as a context manager")
        if self._client is None:
            self._client = ArenaClient(self.url, token=self.token)
        return self._client

    def launch(self, *argv: str) -> subprocess.Popen[bytes]:
        """Start another program on this arena's display (in its sandbox: it is an app)."""
        return self._spawn(argv, untrusted=True)

    def write(self, path: str | os.PathLike[str], content: str | bytes) -> Path:
        """Write a file into the arena (a path relative to its home, or absolute) as its apps' own: in a
        sandboxed arena, owned by the sandbox's account so the apps can change and save it."""
        assert self.home is not None, "start the arena first"
        target = Path(path) if Path(path).is_absolute() else self.home / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        if self.sandbox is not None:
            self.sandbox.hand_over(target)
        return target

    def __enter__(self) -> LocalArena:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalArena(id={self.id!r}, display={self.display!r}, url={self.url!r})"


def _exit_on_sigterm() -> None:
    """A process killed with SIGTERM (a scheduler, ``timeout``, ``kill``) skips ``atexit`` and would leave its
    arenas running: make SIGTERM exit the way Ctrl-C does, when nobody else handles it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def leave(signum: int, _frame: object) -> None:
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, leave)


def reap(arena_id: str) -> int:
    """Stop what is left of an arena whose owner died (a killed process or Ray actor): every process
    carrying its id, and its work folder. Returns how many processes were found."""
    left = len(_marked_pids(arena_id))
    workdirs = list(Path(tempfile.gettempdir()).glob(f"arena-gym-{arena_id}-*"))
    _teardown(arena_id, [], workdirs[0] if workdirs else None)
    return left


def _teardown(arena_id: str, procs: list[subprocess.Popen[bytes]], workdir: Path | None) -> None:
    for proc in reversed(procs):  # the server first, the display last
        terminate_tree(proc, grace_s=5.0)
    # Whatever is left, including programs that detached into sessions of their own.
    for _ in range(3):
        left = _marked_pids(arena_id)
        if not left:
            break
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    for proc in procs:
        if proc.poll() is None:
            proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)
