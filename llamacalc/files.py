"""Reading the files a user names (presets, plans, config.json): regular files only, to a size cap.

A `*.toml` symlink to /dev/zero would otherwise grow without bound and a FIFO hang forever; a file
is opened without blocking, checked to be regular, and read no further than its cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from llamacalc.errors import InputError


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
