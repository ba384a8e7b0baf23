"""The local arena's sandbox: where apps, commands and agent code run, away from the host.

Agent code acts on a desktop on the user's own machine (the local arena is the embedded default), so
everything that runs what a task or an agent says runs here:

- as an unprivileged account of its own (``arena-agent-N``, one per running arena), so it cannot signal
  the desktop server, the display, the window manager (they run as the invoking user) or another arena's
  programs, and gets no root banner in any app;
- in a mount namespace (bubblewrap) where the system is read-only, ``/root`` and ``/home`` are empty,
  ``/tmp`` is the arena's own (one for all its programs, not the host's), and only the arena's own
  folder (its home, its session bus) and the X socket are bound;
- in the arena's own network namespace, with nothing but its own loopback (``network="none"``, the
  default), so it cannot reach the host's loopback services (a Ray dashboard, the evaluate server,
  other arenas, this arena's own server); the arena's apps share it, so they still reach each other
  (and the session bus). ``network="host"`` shares the host's network, loopback included, for tasks
  that need the internet: say so knowingly.

The trusted parts (the desktop server, Xvfb, the window manager) stay outside. Bubblewrap (Debian's
``bubblewrap``) is used because it needs no daemon and sets up every namespace in one command. It needs
root to switch to the unprivileged account; without root there is no sandbox (a warning says so).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

ACCOUNT = "arena-agent"  # the accounts are arena-agent-0, arena-agent-1, ...: one per running arena
SLOT_LOCKS = "/run/arena-gym/accounts"
MAX_ARENAS = 64
_HELD: dict[int, int] = {}  # uid -> the fd holding its slot's lock
ENV_VAR = "ARENA_GYM_SANDBOX"
Network = Literal["none", "host"]


@dataclass(frozen=True)
class Sandbox:
    uid: int
    gid: int
    workdir: str  # the arena's folder: its home, its runtime dir (session bus), its logs
    home: str
    network: Network = "none"
    netns: str | None = None  # the arena's network namespace (/proc/<holder>/ns/net) when network="none"
    home_alias: str | None = None  # where the home also is inside (OSWorld's /home/user: profiles.py)

    # ---- for the processes that receive it
    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> Sandbox | None:
        """The sandbox a desktop server was started with (``$ARENA_GYM_SANDBOX``), if any."""
        raw = os.environ.get(ENV_VAR)
        return cls(**json.loads(raw)) if raw else None

    # ---- the command
    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the sandbox, as the unprivileged account."""
        bwrap = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                 "--perms", "0755", "--tmpfs", "/root", "--perms", "0755", "--tmpfs", "/home",
                 # The arena's own /tmp, the same for all its programs (a task's setup writes /tmp/x that a
                 # later command, or the agent, reads), and not the host's.
                 "--bind", self.tmp, "/tmp"]
        for path in _needed_under_hidden():
            # The folders leading to it must be walkable by the account (bwrap would make them 0700).
            for parent in reversed(Path(path).parents):
                if str(parent) not in ("/", "/root", "/home", "/tmp"):
                    bwrap += ["--perms", "0755", "--dir", str(parent)]
            bwrap += ["--ro-bind", path, path]
        bwrap += ["--bind", self.workdir, self.workdir, "--ro-bind-try", "/tmp/.X11-unix", "/tmp/.X11-unix",
                  "--unshare-ipc", "--new-session", "--die-with-parent"]
        if self.home_alias:
            # Everything under the alias, so the apps see one home (gio's trash is on the same mount as the files).
            bwrap += ["--bind", self.home, self.home_alias, "--setenv", "HOME", self.home_alias,
                      "--setenv", "XDG_CONFIG_HOME", f"{self.home_alias}/.config",
                      "--setenv", "XDG_DATA_HOME", f"{self.home_alias}/.local/share"]
        else:
            bwrap += ["--setenv", "HOME", self.home]
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs"]
        enter = ["nsenter", f"--net={self.netns}"] if self.netns else []
        return [*enter, *bwrap, "--", *drop, *argv]

    @property
    def tmp(self) -> str:
        return os.path.join(self.workdir, "tmp")

    def own(self, path: str | os.PathLike[str]) -> None:
        """Give a file or folder the server made to the sandbox's account, so its apps can change it."""
        try:
            os.chown(path, self.uid, self.gid)
        except OSError as exc:
            log.debug("cannot hand %s to the sandbox's account: %s", path, exc)

    def hand_over(self, path: str | os.PathLike[str]) -> None:
        """Give what was written for the apps, and the folders made for it up to the home, to the account."""
        target, home = Path(path), Path(self.home)
        self.own(target)
        for parent in target.parents:
            if parent == home or home not in parent.parents:
                break
            self.own(parent)

    def own_tree(self, root: str | os.PathLike[str]) -> None:
        self.own(root)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                self.own(os.path.join(dirpath, name))


HIDDEN = ("/root/", "/home/", "/tmp/")


def _needed_under_hidden() -> list[str]:
    """Folders under /root, /home or /tmp that this Python needs (a pyenv or venv interpreter, an editable
    checkout, a clone in /tmp), bound read-only back into the sandbox."""
    candidates = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix,
                  str(Path(__file__).resolve().parents[2])}
    return sorted(p for p in candidates if p.startswith(HIDDEN) and os.path.isdir(p))


def _account_entry(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        return None
    # A system account with no login and no home: the arena gives it one per run.
    done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                          capture_output=True, text=True, check=False)
    if done.returncode not in (0, 9):  # 9: it exists (another arena made it meanwhile)
        log.warning("cannot create the sandbox account %s: %s", name, done.stderr.strip())
        return None
    log.info("created the system account %s for the local arena's sandbox", name)
    return pwd.getpwnam(name)


def _account() -> tuple[int, int] | None:
    """An account of its own for this arena: arenas on one machine cannot signal each other's programs
    (an agent's ``pkill xterm`` ends its own terminal, not another episode's). The account is this
    process's while it holds the slot's lock; a process that dies frees it."""
    os.makedirs(SLOT_LOCKS, mode=0o700, exist_ok=True)
    for slot in range(MAX_ARENAS):
        fd = os.open(os.path.join(SLOT_LOCKS, f"{slot}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        entry = _account_entry(f"{ACCOUNT}-{slot}")
        if entry is None:
            os.close(fd)
            return None
        _HELD[entry.pw_uid] = fd
        return entry.pw_uid, entry.pw_gid
    log.warning("no sandbox: all %d sandbox accounts are in use by other arenas on this machine", MAX_ARENAS)
    return None


def release_account(uid: int) -> None:
    """Give the account back (the arena stopped)."""
    fd = _HELD.pop(uid, None)
    if fd is not None:
        os.close(fd)


def start_netns_holder(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A process that only holds a new network namespace (with its loopback up) for the arena's sandbox."""
    proc = subprocess.Popen(["unshare", "--net", "--", "sh", "-c", "ip link set lo up 2>/dev/null; exec sleep infinity"],
                            env=env, start_new_session=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc


def make_sandbox(workdir: Path, home: Path, network: Network = "none", netns: str | None = None,
                 home_alias: str | None = None) -> Sandbox | None:
    """The sandbox for an arena, or None (with a warning saying why) where it cannot be made here."""
    missing = [tool for tool in ("bwrap", "setpriv", "nsenter", "unshare") if shutil.which(tool) is None]
    if missing:
        log.warning("no sandbox for agent code: %s not installed (apt-get install bubblewrap util-linux); "
                    "apps and agent code run as %s", ", ".join(missing), pwd.getpwuid(os.geteuid()).pw_name)
        return None
    if os.geteuid() != 0:
        log.warning("no sandbox for agent code: switching to the unprivileged account needs root; apps and "
                    "agent code run as you, with your files in reach")
        return None
    account = _account()
    if account is None:
        return None
    sandbox = Sandbox(account[0], account[1], str(workdir), str(home), network, netns if network == "none" else None,
                      home_alias)
    os.chmod(workdir, 0o755)  # the account walks to its home through here
    os.makedirs(sandbox.tmp, exist_ok=True)
    os.chmod(sandbox.tmp, 0o1777)
    sandbox.own_tree(home)
    return sandbox
