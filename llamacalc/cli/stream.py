"""Streaming `batch`: stdin read a chunk at a time, results written in input order as they are ready.

The first chunk is always rendered in this process, so small inputs never start workers. Larger
inputs fan out to forked worker processes, one chunk per task: a reader thread submits chunks
while this thread writes finished ones in order, so output keeps pace with input, and the queue
between them is bounded, so memory stays flat whatever the input size.
"""

import io
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from llamacalc.estimates import batch
from llamacalc.output import documents

if TYPE_CHECKING:
    from llamacalc.output.fields import Field
    from llamacalc.resolve import Resolver

CHUNK_BYTES = 1 << 16
Chunk = tuple[int, bytes]  # the first line's number, and whole lines: split where they are read
Fields: TypeAlias = "tuple[Field, ...] | None"  # --fields: the paths each document is projected to, or all of it


def default_jobs() -> int:
    return min(os.cpu_count() or 1, 8)


def chunks() -> Iterator[Chunk]:
    """Stdin's complete lines, numbered, a chunk at a time: whatever has arrived, without waiting.
    Kept as one block of bytes, so handing a chunk to a worker copies it once instead of pickling
    each of its lines. A line longer than a read is gathered in pieces and joined once, when it ends:
    reading a 40 MB line takes time in proportion to it, not to its square."""
    stream = cast("io.BufferedReader", sys.stdin.buffer)
    pending: list[bytes] = []  # the start of a line not yet ended, as read
    number = 1
    while data := stream.read1(CHUNK_BYTES):
        end = data.rfind(b"\n") + 1  # past the last complete line; 0 when none has ended in this read
        if not end:
            pending.append(data)
            continue
        block = b"".join([*pending, data[:end]]) if pending else data[:end]
        pending = [data[end:]] if end < len(data) else []
        yield number, block
        number += block.count(b"\n")
    rest = b"".join(pending)
    if rest.strip():
        yield number, rest


def columns(fields: Fields) -> tuple[str, ...]:
    """The CSV header: every scalar of a train document, or the line, its error and the fields."""
    return documents.CSV_FIELDS if fields is None else ("line", "error", *(".".join(f) for f in fields))


def render(resolver: "Resolver", chunk: Chunk, as_csv: bool, fields: Fields = None) -> tuple[bytes, bool]:
    """A chunk's output (JSON Lines or CSV rows) as UTF-8, and whether any of its lines failed.
    Bytes, encoded once where they are made: a worker's chunk crosses to the writer and out to stdout
    without being decoded and encoded again."""
    import csv

    first, block = chunk
    text = io.StringIO()
    writer = csv.DictWriter(text, columns(fields), lineterminator="\n") if as_csv else None
    failed = False
    for number, line in enumerate(block.split(b"\n"), first):
        if not line.strip():
            continue
        try:  # a line never takes the others down: even a bug is that line's error
            output, bad = _line(resolver, number, line, as_csv, fields)
        except Exception as error:  # noqa: BLE001 - reported in the line's place, and exit 1
            problem = {"line": number, "error": f"internal error ({type(error).__name__}); please report it"}
            output, bad = _failed(problem, number, as_csv), True
        failed |= bad
        if writer is not None:
            writer.writerow(output)
        else:
            text.write(output)
    return _utf8(text.getvalue()), failed


def _line(resolver: "Resolver", number: int, line: bytes, as_csv: bool, fields: Fields) -> tuple[Any, bool]:
    """One line's output (a CSV row, or a JSON line), and whether it failed."""
    result = batch.run_line(resolver, number, line)
    if isinstance(result, dict):  # the line's error object
        return _failed(result, number, as_csv), True
    if fields is not None:
        if as_csv:
            return {"line": number, **documents.train_fields(result, fields)}, False
        return documents.train_fields_json(result, fields) + "\n", False
    if as_csv:
        return documents.csv_row(documents.train_document(result), number), False
    return documents.train_json(result) + "\n", False


def _failed(problem: dict[str, Any], number: int, as_csv: bool) -> Any:
    """A line's error object, or its CSV row: the line and the error, every other column empty."""
    import json

    return {"line": problem.get("line", number), "error": problem["error"]} if as_csv else json.dumps(problem) + "\n"


def results(resolver: "Resolver", as_csv: bool, jobs: int, fields: Fields = None) -> Iterator[tuple[bytes, bool]]:
    """Rendered chunks of stdin in input order, in worker processes past the first chunk."""
    incoming = chunks()
    first = next(incoming, None)
    if first is None:
        return
    yield render(resolver, first, as_csv, fields)
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from (render(resolver, chunk, as_csv, fields) for chunk in incoming)
        return
    yield from _in_workers(resolver, as_csv, fields, incoming, jobs)


_worker_job: tuple["Resolver", bool, Fields] | None = None  # what forked workers render with


def _render_in_worker(chunk: Chunk) -> tuple[bytes, bool]:
    assert _worker_job is not None
    resolver, as_csv, fields = _worker_job
    return render(resolver, chunk, as_csv, fields)


def _orphaned_exit(parent: int) -> None:
    """In a worker: exit as soon as the parent is gone (killed by any signal, SIGKILL included), so
    no worker outlives the batch it served. Polled: Linux's parent-death signal is tied to the
    thread that forked, and the pool forks from a thread that ends before its workers do."""
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _in_workers(
    resolver: "Resolver", as_csv: bool, fields: Fields, incoming: Iterator[Chunk], jobs: int
) -> Iterator[tuple[bytes, bool]]:
    """Chunks rendered in forked worker processes, in input order. A worker that dies (a crash, the
    OOM killer) breaks its pool: a new pool takes the chunks still to come, and each chunk the broken
    pool held is retried alone; the one that kills its worker again becomes error lines. When no
    process can be forked (`ulimit -u`), the chunks from there on are rendered here, one by one."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _worker_job
    _worker_job = (resolver, as_csv, fields)
    pending: queue.Queue[Any] = queue.Queue(maxsize=2 * jobs)  # bounded: flat memory, backpressure
    done = object()
    context = multiprocessing.get_context("fork")
    pools: list[ProcessPoolExecutor] = []

    def pool() -> ProcessPoolExecutor:
        pools.append(ProcessPoolExecutor(jobs, mp_context=context, initializer=_orphaned_exit, initargs=(os.getpid(),)))
        return pools[-1]

    def feed() -> None:
        forking = True
        try:
            for chunk in incoming:
                future = None
                try:
                    if forking:
                        try:
                            future = (pools[-1] if pools else pool()).submit(_render_in_worker, chunk)
                        except BrokenProcessPool:  # a worker died: the chunks after it get a new pool
                            future = pool().submit(_render_in_worker, chunk)
                except OSError:  # fork refused: this chunk and the rest in this process
                    forking = False
                    _stop(pools[-1])  # the workers it did fork would wait for work forever
                pending.put((chunk, future))
        except BaseException as error:  # handed to the writer, which raises it
            pending.put(error)
        pending.put(done)

    finished = False
    try:
        threading.Thread(target=feed, daemon=True).start()
        while (item := pending.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            chunk, future = item
            if future is None:
                yield render(resolver, chunk, as_csv, fields)
                continue
            try:
                yield future.result()
            except BrokenProcessPool:
                yield _alone(chunk, as_csv, fields, context)
        finished = True
    finally:
        for each in pools:
            if finished:
                each.shutdown(wait=False, cancel_futures=True)
            else:  # a signal or a closed pipe ends the batch: its workers end now, not after their chunk
                _stop(each)


def _stop(pool: Any) -> None:
    """A pool shut down with its workers terminated, whatever they were doing."""
    processes = dict(getattr(pool, "_processes", None) or {})  # before shutdown, which forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes.values():
        process.terminate()


def _alone(chunk: Chunk, as_csv: bool, fields: Fields, context: Any) -> tuple[bytes, bool]:
    """A chunk whose pool broke, rendered again in a worker of its own: its lines, or their errors."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(1, mp_context=context) as solo:
        try:
            return solo.submit(_render_in_worker, chunk).result()
        except (BrokenProcessPool, OSError):  # it died again, or no process could be forked for it
            return _lost(chunk, as_csv, fields), True


def _utf8(text: str) -> bytes:
    """Output text as UTF-8; a lone surrogate a line gave (JSON's "\\ud800", echoed in a CSV error)
    is written escaped, never an encoding error."""
    return text.encode("utf-8", "backslashreplace")


def _lost(chunk: Chunk, as_csv: bool, fields: Fields) -> bytes:
    """Error lines for a chunk whose worker process died before finishing it."""
    first, block = chunk
    problem = "a worker process died while computing this line's chunk (out of memory, or a crash)"
    numbered = enumerate(block.split(b"\n"), first)
    rows = [_failed({"line": n, "error": problem}, n, as_csv) for n, line in numbered if line.strip()]
    if not as_csv:
        return _utf8("".join(rows))
    import csv

    text = io.StringIO()
    csv.DictWriter(text, columns(fields), lineterminator="\n").writerows(rows)
    return _utf8(text.getvalue())
