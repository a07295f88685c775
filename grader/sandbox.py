"""Running the submission's child processes: the sandbox, the limits, the channels.

Three modes, strongest first (LAYER_GRADER_SANDBOX=auto picks the first that works):

* ``bwrap``: bubblewrap with every namespace unshared (no network), uid 65534,
  no capabilities, and a root holding only read-only binds of the system
  libraries, the interpreter and its standard library, and numpy (bound alone
  at /site, so no site-packages, .pth file or editable finder comes along),
  plus /dev, an empty /tmp and a tmpfs /sub holding the submission as
  /sub/layers.py. The instructor's files do not exist in there.
* ``user`` (bubblewrap unusable, grader running as root): the child runs as
  the unprivileged user nobody in a fresh directory. NOT a sandbox: it can
  read every world-readable file.
* ``none``: a plain child process with the grader's own rights. NOT a sandbox.

In every mode: the request and a random nonce arrive on stdin (a file) before
the submission loads; results come back as JSON lines carrying the nonce on an
inherited descriptor of a file (never pickle); stdout and stderr go to files
(a grandchild holding them cannot block anything); the child's process group
(in bwrap, its whole PID namespace) is killed at the wall-clock timeout.
"""

import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import harness

HARNESS_SOURCE = Path(harness.__file__).read_text()
NOBODY = 65534
MODES = ("bwrap", "user", "none")
#: Address space for the child: numpy with one BLAS thread needs a few hundred MB.
MEMORY_BYTES = 2 * 1024**3
#: Largest file the child may write (its stdout, stderr and result files included).
FILE_BYTES = 16 * 1024**2
#: How often the parent looks at a running child's messages and deadline.
POLL_SECONDS = 0.01
CHILD_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/sub",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}

STATEMENTS = {
    "bwrap": (
        "Sandboxed with bubblewrap: no network, read-only interpreter and numpy, the submission "
        "alone in a temporary directory; the reference solution does not exist inside."
    ),
    "user": (
        "NOT SANDBOXED: bubblewrap is unavailable ({reason}). The submission ran as the user "
        "nobody in a temporary directory, with time and memory limits, but it could read every "
        "world-readable file{reference_note}. Do not trust these scores against a hostile submission."
    ),
    "none": (
        "NOT SANDBOXED: {reason}. The submission ran as a plain child process with the grader's "
        "own rights, with time and memory limits only: it could read every file, the reference "
        "solution included. Do not trust these scores against a hostile submission."
    ),
}


class SandboxError(RuntimeError):
    """The requested sandbox cannot run here."""


# --------------------------------------------------------------------------
# What the child needs from this machine
# --------------------------------------------------------------------------

@dataclass
class Interpreter:
    executable: str  # the real binary behind this (virtual) environment's python
    stdlib: str
    dynload: str
    libpython: str  # or None for a static interpreter
    numpy_dir: str
    numpy_libs: str  # or None

    @classmethod
    def current(cls):
        executable = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
        stdlib = sysconfig.get_paths()["stdlib"]
        dynload = sysconfig.get_config_var("DESTSHARED") or os.path.join(stdlib, "lib-dynload")
        libpython = None
        if sysconfig.get_config_var("Py_ENABLE_SHARED"):
            candidate = os.path.join(sysconfig.get_config_var("LIBDIR") or "",
                                     sysconfig.get_config_var("INSTSONAME") or "")
            libpython = candidate if os.path.isfile(candidate) else None
        import numpy

        numpy_dir = os.path.dirname(os.path.realpath(numpy.__file__))
        numpy_libs = os.path.join(os.path.dirname(numpy_dir), "numpy.libs")
        return cls(executable, stdlib, dynload, libpython, numpy_dir,
                   numpy_libs if os.path.isdir(numpy_libs) else None)

    def python_args(self, submission, site):
        # -I: ignore PYTHON* variables and the user site; -S: no site module, so
        # no .pth file (the editable install's finder) runs; -B: write no .pyc.
        return [self.executable, "-I", "-S", "-B", "-c", HARNESS_SOURCE, submission, site]


def _system_library_args():
    args = []
    for path in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args + ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]


def bwrap_args(interpreter, submission_fd, info_fd=None, run_token=None):
    """bwrap's arguments up to (not including) the command.

    info_fd receives bwrap's JSON {"child-pid": ...}: the sandbox's first
    process, whose end ends every process inside. run_token, a random word in
    the command line, tells that process apart from a later one with its pid.
    """
    args = [
        "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--uid", str(NOBODY), "--gid", str(NOBODY), "--clearenv",
    ]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if run_token is not None:
        args += ["--setenv", "LAYER_GRADER_RUN", run_token]
    for name, value in CHILD_ENV.items():
        args += ["--setenv", name, value]
    args += _system_library_args()
    args += ["--ro-bind", interpreter.executable, interpreter.executable]
    if interpreter.libpython:
        args += ["--ro-bind", interpreter.libpython, interpreter.libpython]
    args += ["--ro-bind", interpreter.stdlib, interpreter.stdlib]
    # Some installs keep third-party packages inside the standard library's folder.
    for inside in ("site-packages", "dist-packages"):
        if os.path.isdir(os.path.join(interpreter.stdlib, inside)):
            args += ["--tmpfs", os.path.join(interpreter.stdlib, inside)]
    if os.path.isdir(interpreter.dynload) and not interpreter.dynload.startswith(interpreter.stdlib + os.sep):
        args += ["--ro-bind", interpreter.dynload, interpreter.dynload]
    args += ["--ro-bind", interpreter.numpy_dir, "/site/numpy"]
    if interpreter.numpy_libs:
        args += ["--ro-bind", interpreter.numpy_libs, "/site/numpy.libs"]
    args += [
        "--dev", "/dev",
        "--size", str(FILE_BYTES), "--tmpfs", "/tmp",
        "--size", str(4 * FILE_BYTES), "--tmpfs", "/sub",
        "--file", str(submission_fd), "/sub/layers.py",
        "--chdir", "/sub",
    ]
    return args


# --------------------------------------------------------------------------
# One child process
# --------------------------------------------------------------------------

@dataclass
class ChildResult:
    messages: list = field(default_factory=list)  # decoded lines that carry the nonce, in order
    ignored_lines: int = 0  # lines on the channel without the nonce (forgeries)
    returncode: int = None
    timed_out: bool = False
    stderr_tail: str = ""
    seconds: float = 0.0

    def events(self, name):
        return [message for message in self.messages if message.get("event") == name]


class Watch:
    """What a running child is allowed: a deadline that may move as its messages arrive.

    This one gives the whole child `timeout` seconds; grade.PartsWatch gives
    each part its own. `feed` sees every message carrying the nonce, as it arrives.
    """

    def __init__(self, timeout):
        self.timeout = timeout
        self.start = None

    def begin(self):
        self.start = time.monotonic()

    def feed(self, message):
        pass

    def deadline(self):
        return self.start + self.timeout

    def cpu_seconds(self):
        return math.ceil(self.timeout) + 1


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path, limit=600):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4 * limit))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-4:])[-limit:]


class Sandbox:
    """Runs harness requests against one submission in the chosen mode."""

    def __init__(self, mode="auto", interpreter=None, reference_file=None):
        self.interpreter = interpreter or Interpreter.current()
        self.reference_file = reference_file
        requested = (mode or "auto").strip().lower()
        if requested not in MODES + ("auto",):
            raise SandboxError(f"unknown sandbox mode {requested!r}; use one of auto, bwrap, user, none")
        self.mode, self.reason = self._choose(requested)

    # ---- choosing the mode ------------------------------------------------

    def _choose(self, requested):
        if requested == "none":
            return "none", "sandboxing was turned off (LAYER_GRADER_SANDBOX=none)"
        reasons = []
        if requested in ("auto", "bwrap"):
            problem = self._try_bwrap()
            if problem is None:
                return "bwrap", ""
            if requested == "bwrap":
                raise SandboxError(f"bubblewrap cannot run here: {problem}")
            reasons.append(problem)
        if requested in ("auto", "user"):
            problem = self._try_user()
            if problem is None:
                return "user", "; ".join(reasons) or "user mode was requested"
            if requested == "user":
                raise SandboxError(f"cannot run the child as nobody: {problem}")
            reasons.append(problem)
        return "none", "; ".join(reasons)

    def _quick(self, command, **popen):
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=30, env=CHILD_ENV, **popen)
        except (OSError, subprocess.SubprocessError) as error:
            return str(error)
        if done.returncode != 0:
            return (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["exit code %d" % done.returncode])[-1]
        return None

    def _try_bwrap(self):
        if shutil.which("bwrap") is None:
            return "bwrap is not installed"
        with tempfile.TemporaryFile() as empty:
            args = bwrap_args(self.interpreter, empty.fileno())
            check = "import sys; sys.path.append('/site'); import numpy"
            problem = self._quick(args + [self.interpreter.executable, "-I", "-S", "-B", "-c", check],
                                  pass_fds=(empty.fileno(),))
        return None if problem is None else f"bwrap failed: {problem}"

    def _try_user(self):
        if os.geteuid() != 0:
            return "the grader does not run as root, so it cannot switch to the user nobody"
        with tempfile.TemporaryDirectory(prefix="layer-grader-") as folder:
            site = self._site_dir(Path(folder))
            os.chmod(folder, 0o711)
            check = f"import sys; sys.path.append({str(site)!r}); import numpy"
            problem = self._quick([self.interpreter.executable, "-I", "-S", "-B", "-c", check],
                                  user=NOBODY, group=NOBODY, extra_groups=[], cwd="/")
        return None if problem is None else f"the user nobody cannot run the interpreter: {problem}"

    def statement(self):
        note = ""
        if self.mode == "user" and self.reference_file is not None:
            readable = _world_readable(self.reference_file)
            note = (f", including the reference solution {self.reference_file}" if readable
                    else f" (the reference solution {self.reference_file} is not readable by nobody)")
        return STATEMENTS[self.mode].format(reason=self.reason, reference_note=note)

    @property
    def sandboxed(self):
        return self.mode == "bwrap"

    # ---- running a child --------------------------------------------------

    def _site_dir(self, folder):
        """A folder holding numpy alone (links), for the modes without bwrap."""
        site = folder / "site"
        site.mkdir()
        (site / "numpy").symlink_to(self.interpreter.numpy_dir)
        if self.interpreter.numpy_libs:
            (site / "numpy.libs").symlink_to(self.interpreter.numpy_libs)
        return site

    def run(self, submission_bytes, request, watch):
        """Run the harness on `request` under `watch` (a Watch, or seconds).

        Returns a ChildResult; never raises for the child's doing.
        """
        if not isinstance(watch, Watch):
            watch = Watch(watch)
        nonce = secrets.token_hex(16)
        with tempfile.TemporaryDirectory(prefix="layer-grader-") as name:
            folder = Path(name)
            results_path = folder / "results.jsonl"
            result_fd = os.open(results_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            submission_fd = None
            opened = []
            run_token = secrets.token_hex(8)
            try:
                message = dict(request, nonce=nonce, result_fd=result_fd, limits={
                    "cpu_seconds": watch.cpu_seconds(),
                    "memory_bytes": MEMORY_BYTES,
                    "file_bytes": FILE_BYTES,
                })
                (folder / "request.json").write_text(json.dumps(message))
                pass_fds = [result_fd]
                popen = {}
                if self.mode == "bwrap":
                    (folder / "layers.py").write_bytes(submission_bytes)
                    submission_fd = os.open(folder / "layers.py", os.O_RDONLY | os.O_CLOEXEC)
                    info_fd = os.open(folder / "info.json", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
                    opened.append(info_fd)
                    pass_fds += [submission_fd, info_fd]
                    command = bwrap_args(self.interpreter, submission_fd, info_fd, run_token) + \
                        self.interpreter.python_args("/sub/layers.py", "/site")
                    popen["cwd"] = "/"
                else:
                    work = folder / "sub"
                    work.mkdir()
                    (work / "layers.py").write_bytes(submission_bytes)
                    site = self._site_dir(folder)
                    command = self.interpreter.python_args(str(work / "layers.py"), str(site))
                    popen["cwd"] = str(work)
                    if self.mode == "user":
                        os.chmod(folder, 0o711)
                        os.chown(work, NOBODY, NOBODY)
                        os.chown(work / "layers.py", NOBODY, NOBODY)
                        popen.update(user=NOBODY, group=NOBODY, extra_groups=[])
                result = self._spawn(command, popen, pass_fds, folder, results_path, nonce, watch)
                if self.mode == "bwrap":
                    _end_sandbox(folder / "info.json", run_token)
                return result
            finally:
                for fd in opened:
                    os.close(fd)
                os.close(result_fd)
                if submission_fd is not None:
                    os.close(submission_fd)

    def _spawn(self, command, popen, pass_fds, folder, results_path, nonce, watch):
        result = ChildResult()
        channel = _Channel(results_path, nonce)
        with open(folder / "request.json", "rb") as stdin, \
                open(folder / "stdout.txt", "wb") as stdout, \
                open(folder / "stderr.txt", "wb") as stderr:
            watch.begin()
            process = subprocess.Popen(
                command, stdin=stdin, stdout=stdout, stderr=stderr, pass_fds=pass_fds,
                start_new_session=True, env=CHILD_ENV, close_fds=True, **popen,
            )
            while True:
                try:
                    result.returncode = process.wait(timeout=POLL_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
                for message in channel.read_new():
                    result.messages.append(message)
                    watch.feed(message)
                if result.returncode is not None:
                    break
                if time.monotonic() > watch.deadline():
                    result.timed_out = True
                    _kill_group(process.pid)
                    process.wait()
                    # What it wrote before the kill still counts.
                    for message in channel.read_new():
                        result.messages.append(message)
                        watch.feed(message)
                    break
            # Grandchildren outside bwrap's PID namespace share the group: end them too.
            _kill_group(process.pid)
        result.seconds = time.monotonic() - watch.start
        result.stderr_tail = _tail(folder / "stderr.txt")
        result.ignored_lines = channel.ignored
        return result


def _end_sandbox(info_path, run_token, patience=5.0):
    """Make sure the sandbox's first process (and so every process inside) is gone.

    bwrap ends the sandbox when its command exits or when bwrap itself is
    killed (--die-with-parent), but the second happens asynchronously: wait
    for it, killing the process again if it is still there, so that nothing
    of a submission outlives its part.
    """
    try:
        pid = int(json.loads(Path(info_path).read_text())["child-pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            if run_token.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
                return  # gone, or the pid now belongs to another process
            os.kill(pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            return
        time.sleep(0.02)


class _Channel:
    """The child's result file, read as it grows: complete lines carrying the nonce."""

    def __init__(self, path, nonce):
        self.path, self.nonce = path, nonce
        self.offset, self.pending, self.ignored = 0, b"", 0

    def read_new(self):
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(2 * FILE_BYTES)
        except OSError:
            return []
        self.offset += len(data)
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()  # an unfinished line waits for its end
        messages = []
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if self.nonce not in line:
                self.ignored += bool(line.strip())
                continue
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                self.ignored += 1
                continue
            if isinstance(message, dict) and message.get("nonce") == self.nonce:
                messages.append(message)
            else:
                self.ignored += 1
        return messages


def _world_readable(path):
    """Whether a user with no special rights can read `path` (mode bits along the path)."""
    path = Path(path).resolve()
    try:
        if not path.stat().st_mode & 0o004:
            return False
        for parent in path.parents:
            if not parent.stat().st_mode & 0o001:
                return False
    except OSError:
        return False
    return True
