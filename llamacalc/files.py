"""Reading the files a user names (presets, plans, config.json): regular files only, to a size cap;
writing the output files a user names, never harming what is there.

A `*.toml` symlink to /dev/zero would otherwise grow without bound and a FIFO hang forever; a file
is opened without blocking, checked to be regular, and read no further than its cap.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

from llamacalc.errors import InputError, prefixed


def read_text(path: Path, limit: int) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes, or InputError saying what is wrong."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once instead of waiting
    except OSError as error:
        raise InputError(f"cannot read '{path}': {error.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise InputError(f"'{path}' is not a regular file")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(handle, min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise InputError(f"cannot read '{path}': {error.strerror}") from None
    finally:
        os.close(handle)
    if size > limit:
        raise InputError(f"'{path}' is larger than {limit:,} bytes")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"'{path}' is not UTF-8 text: {error.reason} at byte {error.start}") from None


# --- Writing: -o, --svg, --html, --plot and $GITHUB_STEP_SUMMARY ------------------------------------
# Where the output goes is decided here as the shell's `>` would, with what `>` lacks: a regular file
# is replaced whole (a temporary file renamed over it), so a reader or a second writer never sees half
# a document.

MAX_SYMLINKS = 40  # Linux's own limit on the links one path may follow
FIFO_WAIT = 2.0  # seconds a FIFO may take to get its reader before the write is refused
_DESCRIPTORS = re.compile(r"/dev/(?:std(?:in|out|err)|fd/\d+)|/proc/self/fd/\d+")
_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def parse_toml(text: str, where: str, what: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """TOML text parsed, a byte-order mark some editors write ignored; else `error` naming `where`: not
    TOML, or nested too deeply to be `what` ('presets', 'a plan', 'a config')."""
    import tomllib

    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as failure:
        raise error(f"{where}: not valid TOML: {failure}") from None
    except RecursionError:
        raise error(f"{where}: not {what} llamacalc reads: arrays or tables nested too deeply") from None


def read_json(path: Path, limit: int, option: str) -> Any:
    """A JSON file of at most `limit` bytes, parsed; an InputError naming `option` if it is not."""
    import json

    with prefixed(option):
        text = read_text(path, limit)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InputError(f"{option}: '{path}' is not JSON: {error}") from None


def names_a_folder(text: str) -> bool:
    """Whether an output name can only be a folder: 'out/', '.', '..' (a path object drops the '/')."""
    return text.endswith(("/", os.sep)) or os.path.basename(text) in (".", "..")


def check_output_names(argv: list[str], options: tuple[str, ...]) -> None:
    """The output file names on a command line, read before they become paths (which drop a final
    '/'): a blank name, or one that can only be a folder ('out/', '.'), is an error."""
    end = argv.index("--") if "--" in argv else len(argv)
    for i, arg in enumerate(argv[:end]):
        option, equals, value = arg.partition("=")
        present = bool(equals)
        if option in options and not equals:
            present, value = i + 1 < len(argv), argv[i + 1] if i + 1 < len(argv) else ""
        elif arg.startswith("-o") and not arg.startswith("--") and "-o" in options:
            option, value, present = "-o", arg[2:], True
        if option not in options or not present:
            continue
        if not value.strip():
            raise InputError(f"{option}: expected a file name, got '{value}'")
        if names_a_folder(value):
            raise InputError(f"{option}: '{value}' is a folder name; name a file in it")


def followed(path: Path, option: str) -> Path:
    """`path` with its symlinks followed one by one as the kernel would, refusing a loop and, as
    Linux's fs.protected_symlinks does, a symlink in a sticky world-writable folder (/tmp) owned by
    neither this user nor the folder's owner: someone else's link there may point anywhere."""
    todo = list(reversed(Path(path).parts))
    now = "/" if todo and todo[-1] == "/" else os.getcwd()
    if todo and todo[-1] == "/":
        todo.pop()
    hops = 0
    while todo:
        part = todo.pop()
        if part in ("", "."):
            continue
        if part == "..":
            now = os.path.dirname(now)
            continue
        candidate = os.path.join(now, part)
        try:
            status = os.lstat(candidate)
        except OSError:  # missing (a new file), or a magic /proc link's target: no further links to check
            return Path(os.path.join(candidate, *reversed(todo)))
        if not stat.S_ISLNK(status.st_mode):
            now = candidate
            continue
        hops += 1
        if hops > MAX_SYMLINKS:
            raise InputError(f"{option}: '{path}' is a symlink loop (more than {MAX_SYMLINKS} links)")
        folder = os.stat(now)
        shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
        if shared and status.st_uid not in (os.geteuid(), folder.st_uid):
            raise InputError(
                f"{option}: '{candidate}' is another user's symlink in the shared folder '{now}'; "
                "not following it (write to a file of your own)"
            )
        link = os.readlink(candidate)
        todo.extend(reversed(Path(link).parts))
        if os.path.isabs(link):
            todo.pop()
            now = "/"
    return Path(now)


def open_special(path: Path, option: str, append: bool = False) -> int | None:
    """A descriptor to write through when `path` is not a regular file to replace: stdout and its
    kin (/dev/stdout, /dev/fd/N: duplicated, as the shell does), a device, a FIFO (opened without
    blocking: one with no reader is refused, not waited on forever). None for a regular or new file."""
    text = str(path)
    if _DESCRIPTORS.fullmatch(text):
        number = _STANDARD.get(text, int(text.rsplit("/", 1)[-1]) if text[-1].isdigit() else -1)
        try:
            return os.dup(number)
        except OSError:
            raise InputError(f"{option}: '{text}' is not open") from None
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InputError(f"{option}: '{path}' is a symlink loop") from None
        raise InputError(f"{option}: cannot use '{path}': {error.strerror}") from None
    if stat.S_ISDIR(status.st_mode):
        raise InputError(f"{option}: '{path}' is a folder; name a file in it")
    if stat.S_ISREG(status.st_mode):
        return None
    flags = os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | (os.O_APPEND if append else 0)
    deadline = time.monotonic() + FIFO_WAIT
    while True:
        try:
            handle = os.open(path, flags)
            break
        except OSError as error:
            if error.errno != errno.ENXIO or time.monotonic() > deadline:
                reason = "a FIFO with no reader" if error.errno == errno.ENXIO else error.strerror
                raise InputError(f"{option}: cannot write to '{path}': {reason}") from None
            time.sleep(0.02)
    os.set_blocking(handle, True)
    return handle


class Replacement:
    """A new version of the regular file `target` (a real path, no symlink left in it), written to a
    temporary file beside it and renamed over it on `commit`, so that a reader or a second writer
    never sees half a document. It keeps the old file's mode (less set-uid, set-gid and sticky bits)
    and owner, as `>` does; when that owner cannot be given to a new file (another user's file this
    user may write), or other names link to it, the file is rewritten in place under a lock instead."""

    def __init__(self, target: Path, option: str) -> None:
        import tempfile

        self.target, self.option = target, option
        if os.path.exists(target) and not os.access(target, os.W_OK):
            raise InputError(f"{option}: cannot write '{target}': permission denied")
        try:
            handle, self.temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        except OSError as error:
            raise InputError(f"{option}: cannot write in '{target.parent}': {error.strerror}") from None
        self.stream = open(handle, "w", encoding="utf-8")  # noqa: SIM115 - closed by commit or discard

    def commit(self) -> None:
        try:
            self.stream.flush()
            handle = self.stream.fileno()
            try:
                old: os.stat_result | None = os.stat(self.target)
            except FileNotFoundError:
                old = None
            os.fchmod(handle, 0o666 & ~_umask() if old is None else old.st_mode & 0o777)
            if old is None or _owned_as(handle, old):
                os.replace(self.temporary, self.target)
            else:
                _rewrite(self.target, self.temporary, self.option)
        finally:
            self.discard()

    def discard(self) -> None:
        self.stream.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temporary)


def _owned_as(handle: int, old: os.stat_result) -> bool:
    """Whether the new file could be given the old one's owner and group (and the old has no other names)."""
    if old.st_nlink > 1:
        return False
    new = os.fstat(handle)
    if (new.st_uid, new.st_gid) == (old.st_uid, old.st_gid):
        return True
    try:
        os.fchown(handle, old.st_uid, old.st_gid)
    except OSError:
        return False
    return True


def _rewrite(target: Path, finished: str, option: str) -> None:
    """The file `target` given the content of `finished`, in place, under an exclusive lock."""
    import fcntl
    import shutil

    try:
        handle = os.open(target, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise InputError(f"{option}: cannot write '{target}': {error.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise InputError(f"{option}: '{target}' is no longer a regular file")
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.ftruncate(handle, 0)
        with open(finished, "rb") as source, open(handle, "wb", closefd=False) as sink:
            shutil.copyfileobj(source, sink)
    finally:
        os.close(handle)


def append_text(path: Path, text: str, option: str) -> None:
    """`text` added to the end of `path` (a step summary), in one write, following only safe links."""
    target = followed(path, option)
    handle = open_special(path, option, append=True)
    if handle is None:
        try:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
            handle = os.open(target, flags, 0o666)
        except OSError as error:
            raise InputError(f"{option}: cannot append to '{path}': {error.strerror}") from None
    try:
        data = memoryview(text.encode("utf-8", "backslashreplace"))
        while data:
            data = data[os.write(handle, data) :]
    except OSError as error:
        raise InputError(f"{option}: cannot append to '{path}': {error.strerror}") from None
    finally:
        os.close(handle)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
