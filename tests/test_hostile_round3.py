"""Hostile input, round 3 (issue 26): output files, CI logs, hangs and internal errors, a test per class.

Each test checks a class by several of its members, not one example; the fuzzers at the end cover
the new surfaces (output paths, the Actions environment, plan and preset numbers, config.json
integers). LLAMACALC_FUZZ_EXAMPLES sets their budget (40 each; a long run: 6000, the seed fixed).
"""

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llamacalc.errors import ExitCode, inert, printable

LLAMACALC = [sys.executable, "-m", "llamacalc"]
EXAMPLES = int(os.environ.get("LLAMACALC_FUZZ_EXAMPLES", "40"))


def run(*args: str, timeout: float = 60, **options) -> subprocess.CompletedProcess:
    return subprocess.run([*LLAMACALC, *args], capture_output=True, text=True, timeout=timeout, **options)


def one_line_error(done, code: int = ExitCode.BAD_INPUT) -> str:
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("llamacalc: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


# --- 1. Output files are safe ----------------------------------------------------------------------

OUTPUTS = [("train", "llama-3-8b", "--json", "-o"), ("train", "llama-3-8b", "--svg"), ("train", "llama-3-8b", "--html")]


@pytest.fixture
def shared(tmp_path):
    """A sticky world-writable folder like /tmp, holding a symlink another user (uid 4242) owns."""
    if os.geteuid() != 0:
        pytest.skip("making another user's symlink needs root")
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = folder / "report"
    link.symlink_to(victim)
    os.lchown(link, 4242, 4242)
    return link, victim


@pytest.mark.parametrize("command", OUTPUTS)
def test_no_output_follows_another_users_symlink_in_a_sticky_folder(cli, shared, command):
    link, victim = shared
    done = cli(*command, str(link))
    assert done.code == ExitCode.BAD_INPUT and "another user's symlink" in done.stderr
    assert victim.read_text() == "precious\n" and link.is_symlink()


def test_the_step_summary_follows_no_other_users_symlink(cli, shared, tmp_path):
    link, victim = shared
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(link)}
    done = cli("check", "llama-3-8b", "--max-cost", "1 USD", env=env)
    assert done.code == ExitCode.BAD_INPUT and "GITHUB_STEP_SUMMARY" in done.stderr
    assert victim.read_text() == "precious\n"


def test_an_own_symlink_in_a_sticky_folder_is_followed(cli, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    target = tmp_path / "mine.json"
    (folder / "link.json").symlink_to(target)
    assert cli("train", "llama-3-8b", "--json", "-o", str(folder / "link.json")).code == 0
    assert json.loads(target.read_text())["model"] == "llama-3-8b"


@pytest.mark.parametrize("option", ["-o", "--svg", "--html", "--plot"])
def test_a_fifo_with_no_reader_is_refused_not_waited_on(tmp_path, option):
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)
    command = ["optimal", "--compute", "1e24"] if option == "--plot" else ["train", "llama-3-8b"]
    start = time.monotonic()
    done = run(*command, option, str(fifo), timeout=30)
    assert "no reader" in one_line_error(done) and time.monotonic() - start < 15
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("name", ["newdir/", "out/", "./", "..", "sub/."])
@pytest.mark.parametrize("option", ["-o", "--output", "--svg", "--html"])
def test_a_folder_name_is_an_error_not_a_file(cli, tmp_path, monkeypatch, name, option):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    done = cli("train", "llama-3-8b", option, name)
    assert done.code == ExitCode.BAD_INPUT and "folder" in done.stderr and done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def test_a_folder_name_joined_to_its_option_is_an_error(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for spelling in (["-onewdir/"], ["--output=newdir/"], ["--svg=x/"]):
        assert cli("train", "llama-3-8b", *spelling).code == ExitCode.BAD_INPUT, spelling
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("spelling", [["-o", ""], ["--output="], ["-o", "  "], ["--svg="], ["--html", ""]])
def test_a_blank_output_name_is_an_error(cli, tmp_path, monkeypatch, spelling):
    monkeypatch.chdir(tmp_path)
    done = cli("train", "llama-3-8b", *spelling)
    assert done.code == ExitCode.BAD_INPUT and "expected a file name" in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("loop", [["a", "a"], ["a", "b", "a"]])
def test_a_symlink_loop_is_an_error(cli, tmp_path, loop):
    for name, target in zip(loop, loop[1:], strict=False):
        (tmp_path / name).symlink_to(tmp_path / target)
    done = cli("train", "llama-3-8b", "--json", "-o", str(tmp_path / loop[0]))
    assert done.code == ExitCode.BAD_INPUT and "symlink loop" in done.stderr


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_output_to_dev_stdout_in_a_pipe_works(name):
    done = subprocess.run([*LLAMACALC, "train", "llama-3-8b", "--json", "-o", name], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "llama-3-8b"


def test_output_keeps_mode_and_drops_set_uid_bits(cli, tmp_path):
    for mode in (0o4755, 0o2750, 0o1644):
        target = tmp_path / f"{mode:o}.json"
        target.write_text("old")
        target.chmod(mode)
        assert cli("train", "llama-3-8b", "--json", "-o", str(target)).code == 0
        assert stat.S_IMODE(target.stat().st_mode) == mode & 0o777


def test_output_keeps_another_owner_and_hard_links(cli, tmp_path):
    target = tmp_path / "theirs.json"
    target.write_text("old")
    target.chmod(0o664)
    if os.geteuid() == 0:
        os.chown(target, 4242, 4343)
    owner = target.stat()
    os.link(target, tmp_path / "alias.json")
    assert cli("train", "llama-3-8b", "--json", "-o", str(target)).code == 0
    after = target.stat()
    assert (after.st_uid, after.st_gid, after.st_ino) == (owner.st_uid, owner.st_gid, owner.st_ino)
    assert json.loads((tmp_path / "alias.json").read_text())["model"] == "llama-3-8b"  # written through
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_file_the_user_cannot_write_is_not_replaced(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may write any file")
    target = tmp_path / "locked.json"
    target.write_text("old")
    target.chmod(0o444)
    assert "permission denied" in one_line_error(run("train", "llama-3-8b", "--json", "-o", str(target)))
    assert target.read_text() == "old"


def test_concurrent_writers_leave_one_whole_document(tmp_path):
    target = tmp_path / "out.jsonl"
    lines = "".join(json.dumps({"model": "llama-3-8b", "gpus": 1000 + i}) + "\n" for i in range(300))
    writers = [
        subprocess.Popen([*LLAMACALC, "batch", "-o", str(target)], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    for writer in writers:
        writer.communicate(lines.encode(), timeout=120)
        assert writer.returncode == 0
    documents = target.read_text().splitlines()
    assert len(documents) == 300 and all(json.loads(line)["model"] == "llama-3-8b" for line in documents)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


# --- 2. CI output stays machine-readable, and names cannot inject ------------------------------------

INJECTIONS = ["a\n::error::INJECTED", "::warning::INJECTED", "  ::error::INJECTED", "x\r::error::INJECTED",
              "##[error]INJECTED", "\u3000::error::INJECTED", "b\u2028::error::INJECTED"]  # fmt: skip


def commands_in(text: str) -> list[str]:
    """The lines GitHub's runner would read as workflow commands (it trims leading whitespace first)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line for line in lines if line.strip().startswith(("::", "##["))]


def test_printable_escapes_bidi_and_separators_and_leaves_no_command():
    assert printable("txt\u202eexe.") == "txt\\u202eexe."
    assert printable("a\u2066b\u2069\u200f") == "a\\u2066b\\u2069\\u200f"
    for text in INJECTIONS:
        assert commands_in(printable(text)) == [], text
    assert inert("ok ::x\n  ::error::y") == "ok ::x\n  \\x3a:error::y"


@pytest.mark.parametrize("columns", ["200", "40", "12"])
def test_run_names_cannot_inject_workflow_commands(cli, tmp_path, columns):
    plan = "".join(f'[runs."{name}"]\nmodel = "llama-3-8b"\nmax_cost = "1 USD"\n\n' for name in INJECTIONS)
    (tmp_path / "plan.toml").write_text(plan.replace("\n::", "\\n::").replace("\r", "\\r"))
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "COLUMNS": columns}
    done = cli("check", "--plan", str(tmp_path / "plan.toml"), env=env)
    assert done.code == ExitCode.CHECK_FAILED, done.stderr
    assert commands_in(done.stdout) == []
    ours = commands_in(done.stderr)
    assert len(ours) == len(INJECTIONS) and all(line.startswith("::error title=Budget check failed") for line in ours)
    assert "\u202e" not in done.stderr and "INJECTED" in summary.read_text()
    assert all(line.startswith("|") or not line.startswith("::") for line in summary.read_text().splitlines())


def test_preset_strings_cannot_inject_into_tables_or_messages(cli, tmp_path):
    (tmp_path / "p.toml").write_text(
        '[models."m\\n::error::INJECTED"]\ntitle = "::error::T\\n::error::U"\nparams = "8B"\ntokens = "1T"\n'
        'source = "x"\n'
    )
    for args in (["presets", "models"], ["train", "m\n::error::INJECTED"], ["train", "nope"], ["presets", "show", "m"]):
        done = cli(*args, "--presets", str(tmp_path / "p.toml"), env={"COLUMNS": "30"})
        assert commands_in(done.stdout + done.stderr) == [], args


@pytest.mark.parametrize("command", [["check", "llama-3-8b", "--max-cost", "1 USD"], ["check", "llama-3-8b",
                                     "--max-cost", "1 GUSD"]])  # fmt: skip
def test_under_actions_json_and_output_carry_only_their_document(cli, tmp_path, command):
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    done = cli(*command, "--json", env=env)
    json.loads(done.stdout)
    assert commands_in(done.stderr)  # the annotations went to stderr, where the runner reads them too
    done = cli(*command, "--json", "-o", str(tmp_path / "out.json"), env=env)
    json.loads((tmp_path / "out.json").read_text())
    assert done.stdout == ""


# --- 3. Nothing hangs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["9**9_999_999", "9**0x7fffffff", "9**0b111111111111111111111111", "9**9e9", "9^9_999_999", "2**99_9 FLOP",
     "9 ** (9_999_999)", "10**400 W", "99**99*99**99 W"],
)  # fmt: skip
@pytest.mark.parametrize("option", ["--power", "--price", "--days"])
def test_every_integer_spelling_meets_the_power_guard(option, value):
    one_line_error(run("train", "llama-3-8b", option, value, timeout=20))


def test_a_40_mb_batch_line_is_read_in_linear_time():
    line = json.dumps({"model": "llama-3-8b", "source": "x" * 40_000_000}) + "\n"
    start = time.monotonic()
    done = subprocess.run([*LLAMACALC, "batch"], input=line.encode(), capture_output=True, timeout=60)
    assert time.monotonic() - start < 20
    assert json.loads(done.stdout)["line"] == 1


FORK_FAILS = """
import errno, os, sys
allowed, real = int(sys.argv.pop(1)), os.fork
count = [0]
def fork():
    count[0] += 1
    if count[0] > allowed:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
    return real()
os.fork = fork
from llamacalc.cli import main
main()
"""


@pytest.mark.parametrize("forks", [0, 1])
def test_batch_falls_back_to_one_process_when_fork_fails(forks):
    lines = "".join(json.dumps({"model": "llama-3-8b", "gpus": 1000 + i}) + "\n" for i in range(6000))
    done = subprocess.run(
        [sys.executable, "-c", FORK_FAILS, str(forks), "batch", "--jobs", "4"],
        input=lines, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    gpus = [json.loads(line)["gpus"] for line in done.stdout.splitlines()]
    assert gpus == [1000 + i for i in range(6000)]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGKILL])
def test_workers_die_with_their_parent_and_leave_no_temporary_file(tmp_path, signum):
    target = tmp_path / "out.jsonl"
    batch = subprocess.Popen(
        [*LLAMACALC, "batch", "--jobs", "3", "-o", str(target)], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    line = (json.dumps({"model": "llama-3-8b", "gpus": 1024}) + "\n").encode()
    deadline = time.monotonic() + 60
    while len(_children(batch.pid)) < 3 and time.monotonic() < deadline:
        batch.stdin.write(line * 2000)
        batch.stdin.flush()
    workers = _children(batch.pid)
    assert len(workers) >= 3
    batch.send_signal(signum)
    batch.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    if signum != signal.SIGKILL:  # SIGKILL leaves its temporary file: nothing can clean up after it
        assert list(tmp_path.iterdir()) == []


def test_presets_at_the_root_are_refused_at_once():
    start = time.monotonic()
    for where in (["--presets", "/"], ["--presets", "/usr"]):
        assert "error: --presets: '/" in one_line_error(run("presets", *where, timeout=30))
    env = {**os.environ, "LLAMACALC_PRESETS": "/"}
    assert "error: LLAMACALC_PRESETS: '/' holds more than" in one_line_error(run("presets", env=env))
    assert time.monotonic() - start < 30


def test_a_preset_folder_error_names_what_gave_the_folder(cli, tmp_path):
    """The default folder, $LLAMACALC_PRESETS or --presets: the one that named it is blamed."""
    crowded = tmp_path / "xdg" / "llamacalc" / "presets"
    crowded.mkdir(parents=True)
    for i in range(10_001):
        (crowded / f"{i}.txt").touch()
    done = cli("presets", env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert done.code == ExitCode.BAD_INPUT, done.stderr
    assert done.stderr.startswith("llamacalc: error: the default presets folder: ") and "--presets" not in done.stderr
    (tmp_path / "bad.toml").write_text("[models\n")
    done = cli("presets", env={"LLAMACALC_PRESETS": str(tmp_path / "bad.toml")})
    assert done.code == ExitCode.BAD_INPUT and "bad.toml: not valid TOML" in done.stderr, done.stderr


def test_calibrate_on_a_file_of_no_runs_is_refused(cli, tmp_path):
    """A file of runs with no [runs.*] would refit on the shipped runs alone, as if it had counted."""
    (tmp_path / "empty.toml").write_text("# nothing yet\n")
    (tmp_path / "models.toml").write_text('[models.m]\nparams = "1B"\ntokens = "1T"\nsource = "x"\n')
    for name in ("empty.toml", "models.toml", ""):
        done = cli("calibrate", "--runs", str(tmp_path / name))
        assert done.code == ExitCode.BAD_INPUT and "holds no [runs.*] presets" in done.stderr, (name, done.stderr)
        assert done.stdout == ""
    done = cli("calibrate", "--steps", "--runs", str(tmp_path / "models.toml"))
    assert done.code == ExitCode.BAD_INPUT and "holds no [steps.*] presets" in done.stderr, done.stderr
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "run.toml").write_text(
        '[runs.ours]\norganisation = "us"\nparams = "7B"\ntokens = "2T"\naccelerator = "h100-sxm"\n'
        'accelerator_hours = "400K"\nhours_type = "end-to-end"\nconfidence = "primary"\nsource = "our log"\n'
    )
    assert cli("calibrate", "--runs", str(tmp_path / "ours")).code == ExitCode.OK


# --- 4. No internal errors -------------------------------------------------------------------------


def test_integers_too_large_for_a_float_are_bad_input(cli, tmp_path):
    huge = str(10**400)
    (tmp_path / "m.toml").write_text(f'[models.m]\nparams = {huge}\ntokens = "1T"\nsource = "x"\n')
    (tmp_path / "h.toml").write_text(
        f'[hardware.g]\npeak_bf16 = {huge}\nmemory = "80 GB"\npower = "700 W"\nsource = "x"\n'
    )
    for args in (["train", "m", "--presets", str(tmp_path / "m.toml")],
                 ["train", "llama-3-8b", "--gpu", "g", "--presets", str(tmp_path / "h.toml")],
                 ["train", "llama-3-8b", "--power", "99**99*99**66 W"],
                 ["train", "llama-3-8b", "--power", "99**99*99**99 W"]):  # fmt: skip
        done = cli(*args)
        assert done.code == ExitCode.BAD_INPUT and "too large" in done.stderr, (args, done.stderr)
    done = cli("batch", input=json.dumps({"model": "llama-3-8b", "gpus": int(huge)}) + "\n")
    assert done.code == ExitCode.CHECK_FAILED and "too large" in json.loads(done.stdout)["error"]


def test_config_json_integers_too_large_for_a_float(cli, tmp_path):
    config = {"architectures": ["LlamaForCausalLM"], "hidden_size": 2**1000, "num_hidden_layers": 32,
              "num_attention_heads": 32, "intermediate_size": 11008, "vocab_size": 32000}  # fmt: skip
    for field in ("hidden_size", "num_hidden_layers", "vocab_size"):
        (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_size": 4096, field: 10**400}))
        done = cli("train", "--config", str(tmp_path / "config.json"), "--tokens", "1T")
        assert done.code == ExitCode.BAD_INPUT, (field, done.stderr)


@pytest.mark.parametrize("limit", ["--max-cost", "--max-days", "--max-energy", "--max-co2", "--max-flops"])
def test_denormal_limits_are_bad_input(cli, limit):
    done = cli("check", "llama-3-8b", limit, "1e-320")
    assert done.code == ExitCode.BAD_INPUT and "too small" in done.stderr, done.stderr


def test_deeply_nested_toml_is_bad_input(cli, tmp_path):
    nested = "[" * 3000 + "]" * 3000
    (tmp_path / "p.toml").write_text(f"[models.m]\nx = {nested}\n")
    (tmp_path / "plan.toml").write_text(f"[runs.a]\nmodel = 'llama-3-8b'\nmax_cost = {nested}\n")
    assert "nested too deeply" in cli("presets", "--presets", str(tmp_path / "p.toml")).stderr
    assert "nested too deeply" in cli("check", "--plan", str(tmp_path / "plan.toml")).stderr


@pytest.mark.parametrize("value", ["[]", "[1, 2]", "{}", "{a = 1}", "1979-05-27", "07:32:00"])
@pytest.mark.parametrize("key", ["flops", "precision", "recompute", "gpu", "model", "pricing"])
def test_a_plan_field_of_the_wrong_shape_is_bad_input(cli, tmp_path, key, value):
    (tmp_path / "plan.toml").write_text(f"[runs.a]\nmodel = 'llama-3-8b'\n{key} = {value}\nmax_cost = '1 GUSD'\n")
    done = cli("check", "--plan", str(tmp_path / "plan.toml"))
    assert done.code == ExitCode.BAD_INPUT and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize(
    ("command", "code"),
    [("batch <&-", ExitCode.BAD_INPUT), ("batch < {line} >&-", ExitCode.BAD_INPUT),
     ("train llama-3-8b --json >&-", ExitCode.BAD_INPUT), ("train llama-3-8b --json 2>&-", ExitCode.OK),
     ("train llama-3-8b --json <&-", ExitCode.OK), ("train llama-3-8b --params x 2>&-", ExitCode.BAD_INPUT),
     ("train llama-3-8b --params x <&- >&- 2>&-", ExitCode.BAD_INPUT), ("check llama-3-8b --max-cost 1USD 2>&-",
     ExitCode.CHECK_FAILED)],
)  # fmt: skip
def test_closed_standard_streams_keep_the_exit_codes(tmp_path, command, code):
    (tmp_path / "line.jsonl").write_text('{"model": "llama-3-8b"}\n')
    line = tmp_path / "line.jsonl"
    done = subprocess.run(f"{sys.executable} -m llamacalc {command.format(line=line)}", shell=True, timeout=60)
    assert done.returncode == code


def test_closed_stdout_with_an_output_file_still_writes_it(tmp_path):
    target = tmp_path / "out.json"
    command = f"{sys.executable} -m llamacalc train llama-3-8b --json -o {target} >&-"
    assert subprocess.run(command, shell=True, timeout=60).returncode == 0
    assert json.loads(target.read_text())["model"] == "llama-3-8b"


@pytest.mark.parametrize("value", ["1e300", "1e17", "2**60"])
def test_memory_micro_batch_beyond_counting_is_bad_input(cli, value):
    done = cli("memory", "llama-3-8b", "--micro-batch", value)
    assert done.code == ExitCode.BAD_INPUT and done.stderr.startswith("llamacalc: error: --micro-batch"), done.stderr


@pytest.mark.parametrize(
    "args",
    [["--budget", "1 MUSD", "--price", "0"], ["--budget", "1 MUSD", "--days", "30", "--price", "0 USD/h"],
     ["--loss", "2.1", "--inference-tokens", "1T", "--serve-gpu", "h100-sxm", "--price", "0"]],
)  # fmt: skip
def test_zero_prices_in_a_cost_optimum_are_bad_input(cli, args):
    done = cli("optimal", *args)
    assert done.code == ExitCode.BAD_INPUT and "zero" in done.stderr, done.stderr


# --- 5. Nothing silently accepted; 7. messages that blame the right thing ---------------------------


@pytest.mark.parametrize("value", ["40%%", "40 % %", "%40%", "4%0%"])
@pytest.mark.parametrize("option", ["--mfu", "--price", "--power"])
def test_a_doubled_percent_is_an_error_not_a_percent_of_a_percent(cli, option, value):
    done = cli("train", "llama-3-8b", option, value)
    assert done.code == ExitCode.BAD_INPUT and "one '%'" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "args",
    [["optimal", "--compute", "1e24", "--plot", "same.svg", "-o", "same.svg"],
     ["train", "llama-3-8b", "--svg", "same.svg", "-o", "same.svg"],
     ["train", "llama-3-8b", "--svg", "same.svg", "--html", "./same.svg"],
     ["optimal", "--compute", "1e24", "--plot", "same.svg", "--svg", "same.svg"]],
)  # fmt: skip
def test_two_outputs_onto_one_file_are_refused(cli, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    done = cli(*args)
    assert done.code == ExitCode.BAD_INPUT and "written by another option" in done.stderr, done.stderr
    assert not (tmp_path / "same.svg").exists()  # refused before anything is written


def test_outputs_may_share_a_device(cli):
    assert cli("train", "llama-3-8b", "--svg", "/dev/null", "--html", "/dev/null", "-o", "/dev/null").code == 0


@pytest.mark.parametrize(
    ("spelled", "blamed"),
    [("0.5:2:0.5", "range start of '0.5:2:0.5': expected 1 to 10"), ("1:20:1", "range stop of '1:20:1'")],
)
def test_a_sweep_range_beyond_its_bounds_names_the_bound(cli, spelled, blamed):
    done = cli("sweep", "llama-3-8b", "--pue", spelled)
    assert done.code == ExitCode.BAD_INPUT and blamed in done.stderr, done.stderr


def test_a_sweep_step_is_not_held_to_the_values_bounds(cli):
    assert cli("sweep", "llama-3-8b", "--pue", "1:2:0.5", "--json").code == 0


def test_max_power_with_zero_power_blames_the_power_given(cli):
    done = cli("check", "llama-3-8b", "--max-power", "1 kW", "--power", "0")
    assert done.code == ExitCode.BAD_INPUT and done.stderr.startswith("llamacalc: error: --power:"), done.stderr


def test_fleet_cites_the_users_capex_not_the_presets(cli):
    done = cli("fleet", "meta-24k", "--capex", "1 GUSD", env={"COLUMNS": "120"})
    assert "capex covers: the capex given (1 GUSD)" in done.stdout and "Meta FY2024" not in done.stdout


# --- 6. Absurd figures are refused -----------------------------------------------------------------


@pytest.mark.parametrize("args", [["--budget", "1e-3 USD"], ["--days", "1e-6"], ["--budget", "1 USD", "--gpus", "16K"]])
def test_a_budget_of_less_than_a_second_on_each_gpu_is_refused(cli, args):
    done = cli("optimal", *args)
    assert done.code == ExitCode.BAD_INPUT and "less than 1 s" in done.stderr, done.stderr


def test_a_budget_of_seconds_on_one_gpu_still_plans(cli):
    assert cli("optimal", "--budget", "1 USD", "--gpus", "1", "--json").code == 0


# --- Fuzzers over the new surfaces -----------------------------------------------------------------

_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_path_parts = st.lists(
    st.sampled_from(["", ".", "..", "a", "b", "link", "loop", "fifo", "dir", "dir/", "x.json", "/dev/null"]),
    min_size=1, max_size=4,
)  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(parts=_path_parts, option=st.sampled_from(["-o", "--svg", "--html"]))
def test_fuzzed_output_paths_fail_cleanly(cli, tmp_path_factory, parts, option):
    root = tmp_path_factory.mktemp("paths")
    (root / "dir").mkdir()
    (root / "a").write_text("old")
    (root / "link").symlink_to(root / "a")
    (root / "loop").symlink_to(root / "loop")
    os.mkfifo(root / "fifo.pipe")
    (root / "fifo").symlink_to(root / "fifo.pipe")
    path = "/".join(parts) if not parts[0].startswith("/") else parts[0]
    previous = os.getcwd()
    os.chdir(root)
    try:
        done = cli("train", "llama-3-8b", option, path or "-")
    finally:
        os.chdir(previous)
    assert done.code in (ExitCode.OK, ExitCode.BAD_INPUT), (path, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.count("\n") <= 1, (path, done.stderr)
    assert (root / "link").is_symlink() and (root / "dir").is_dir()
    assert not [p for p in root.iterdir() if p.name.startswith(".")], path


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(name=_names, limit=st.sampled_from(["1 USD", "1 GUSD"]), columns=st.sampled_from(["20", "80", "200"]))
def test_fuzzed_run_names_under_actions(cli, tmp_path_factory, name, limit, columns):
    root = tmp_path_factory.mktemp("actions")
    key = json.dumps(name)  # a TOML basic string is a JSON string, escapes included
    (root / "plan.toml").write_text(f'[runs.{key}]\nmodel = "llama-3-8b"\nmax_cost = "{limit}"\n')
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(root / "s.md"), "COLUMNS": columns}
    done = cli("check", "--plan", str(root / "plan.toml"), env=env)
    assert done.code in (ExitCode.OK, ExitCode.CHECK_FAILED, ExitCode.BAD_INPUT), done.stderr
    assert commands_in(done.stdout) == [], name
    assert all(line.startswith(("::error title=Budget", "::notice title=Budget")) for line in commands_in(done.stderr))
    for control in ("\u202e", "\x1b", "\u2066"):
        assert control not in done.stdout + done.stderr
    done = cli("check", "--plan", str(root / "plan.toml"), "--json", env=env)
    if done.code != ExitCode.BAD_INPUT:
        json.loads(done.stdout)


_numbers = st.one_of(
    st.integers(min_value=-(10**500), max_value=10**500).map(str),
    st.floats(allow_nan=False).map(repr),
    st.sampled_from(["1e-320", "5e-324", "1e308", "-0.0", "[]", "{}", "[1]", '"9**9_999_999"', '"10**400 W"',
                     '"1e-320 USD"', '"0"', '""', '"40%%"', "true"]),
)  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(
    key=st.sampled_from(["params", "tokens", "gpus", "days", "mfu", "price", "power", "pue", "carbon", "flops",
                         "precision", "seq_len", "max_cost", "max_days", "max_gpus", "max_flops", "confidence"]),
    value=_numbers,
)  # fmt: skip
def test_fuzzed_plan_numbers_fail_cleanly(cli, tmp_path_factory, key, value):
    root = tmp_path_factory.mktemp("plan")
    (root / "plan.toml").write_text(f"[runs.a]\nmodel = 'llama-3-8b'\nmax_cost = '1 GUSD'\n{key} = {value}\n")
    done = cli("check", "--plan", str(root / "plan.toml"))
    assert done.code in (ExitCode.OK, ExitCode.CHECK_FAILED, ExitCode.BAD_INPUT), (key, value, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, (key, value, done.stderr)


# A preset of each kind a number can break, the field fuzzed, and the commands that read it.
_PRESET_FIELDS = {
    "hardware": ('[hardware.g]\npeak_bf16 = "989 TFLOP/s"\nmemory = "80 GB"\npower = "700 W"\nserver_power = 1.8\n'
                 'purchase_price = "30000 USD"\nsource = "x"\n',
                 ["peak_bf16", "peak_fp8", "memory", "bandwidth", "power", "price", "price_range", "purchase_price",
                  "server_power", "scale_up_domain", "scale_up_bandwidth", "gemm_bf16", "attention_bf16"],
                 [["train", "llama-3-8b", "--gpu", "g", "--json"], ["train", "llama-3-8b", "--gpu", "g", "--pricing",
                   "owned"], ["serve", "llama-3.1-8b", "--gpu", "g", "--json"]]),
    "models": ('[models.m]\nparams = "7B"\ntokens = "1T"\nsource = "x"\n',
               ["params", "active_params", "tokens", "global_batch", "layers"],
               [["train", "m", "--json"], ["compare", "m", "llama-3-8b", "--json"]]),
    "clusters": ('[clusters.c]\ngpu = "h100-sxm"\ngpus = 1024\nsource = "x"\n',
                 ["gpus", "capex", "pod_gpus", "oversubscription", "scale_out_bandwidth"],
                 [["fleet", "c", "--json"], ["train", "llama-3-8b", "--cluster", "c", "--json"]]),
}  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(kind=st.sampled_from(sorted(_PRESET_FIELDS)), data=st.data(), value=_numbers)
def test_fuzzed_preset_numbers_fail_cleanly(cli, tmp_path_factory, kind, data, value):
    """A preset figure of any size or spelling is a clean answer or one line naming it; never a crash."""
    text, fields, commands = _PRESET_FIELDS[kind]
    key = data.draw(st.sampled_from(fields))
    root = tmp_path_factory.mktemp("preset")
    lines = [line for line in text.splitlines() if not line.startswith(f"{key} =")]
    lines.insert(1, f"{key} = {value}")  # in the preset's table, before its source
    (root / "p.toml").write_text("\n".join(lines) + "\n")
    for args in commands:
        done = cli(*args, "--presets", str(root))
        context = (kind, key, value, args, done.stderr)
        assert done.code in (ExitCode.OK, ExitCode.BAD_INPUT), context
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, context
        if done.code == ExitCode.BAD_INPUT:
            assert done.stdout == "" and done.stderr.count("\n") == 1, context
        elif "--json" in args:
            json.loads(done.stdout)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(
    field=st.sampled_from(["hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                           "intermediate_size", "vocab_size", "max_position_embeddings", "num_local_experts",
                           "num_experts_per_tok"]),
    value=st.one_of(st.integers(min_value=-(10**400), max_value=10**400), st.sampled_from([2**1000, 10**308, 0])),
)  # fmt: skip
def test_fuzzed_config_json_integers_fail_cleanly(cli, tmp_path_factory, field, value):
    root = tmp_path_factory.mktemp("config")
    config = {"architectures": ["MixtralForCausalLM"], "hidden_size": 4096, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
              "vocab_size": 32000, "num_local_experts": 8, "num_experts_per_tok": 2}  # fmt: skip
    (root / "config.json").write_text(json.dumps({**config, field: value}))
    done = cli("train", "--config", str(root / "config.json"), "--tokens", "1T", "--json")
    assert done.code in (ExitCode.OK, ExitCode.BAD_INPUT), (field, value, done.stderr)
    assert "internal error" not in done.stderr, (field, value)


def test_figures_past_any_real_run_are_refused(cli, tmp_path):
    """Inputs and preset figures beyond the bounds the README states are bad input, naming the culprit."""
    cases = [
        (["train", "--params", "1e150", "--tokens", "1T"], "--params: at most"),
        (["train", "--params", "7B", "--tokens", "1e20"], "--tokens: at most"),
        (["train", "llama-3-8b", "--gpus", "2e7"], "--gpus"),
        (["train", "llama-3-8b", "--days", "1e-6"], "at most 10,000,000"),
        (["train", "llama-3-8b", "--mfu", "1e-12"], "--mfu"),
        (["train", "llama-3-8b", "--power", "0"], "--power"),
        (["train", "--params", "7B", "--active-params", "8B", "--tokens", "1T"], "--active-params"),
    ]
    for args, message in cases:
        run = cli(*args)
        assert run.code == 2 and message in run.stderr and len(run.stderr.splitlines()) == 1, args
    (tmp_path / "h.toml").write_text('[hardware.g]\npeak_bf16 = "989 TFLOP/s"\nprice = "1e300 USD/h"\nsource = "x"\n')
    run = cli("train", "llama-3-8b", "--gpu", "g", "--presets", str(tmp_path))
    assert run.code == 2 and "hardware.g.price: expected at most" in run.stderr


_RUN = 'organisation = "o"\naccelerator = "h100-sxm"\nhours_type = "end-to-end"\nconfidence = "primary"\nsource = "x"\n'


@pytest.mark.parametrize(
    ("preset", "args", "blamed"),
    [
        ('[hardware.g]\npeak_bf16 = "989 TFLOP/s"\npower = "1 MW"\nsource = "x"\n', ["presets", "show", "g"],
         "hardware.g.power: expected at most 100,000 W (the bound of --power), got 1e6"),
        ('[hardware.g]\npeak_bf16 = "989 TFLOP/s"\npower = "0.5 W"\nsource = "x"\n', ["presets", "show", "g"],
         "hardware.g.power: expected at least 1 W (the bound of --power)"),
        ('[hardware.g]\npeak_bf16 = "989 TFLOP/s"\nprice = "2 USD/h"\nprice_range = ["1 USD/h", "1e5 USD/h"]\n'
         'source = "x"\n', ["train", "llama-3-8b", "--gpu", "g"], "hardware.g.price_range: expected at most 10,000"),
        ('[models.m]\nparams = "1e16"\ntokens = "1T"\nsource = "x"\n', ["train", "m"],
         "models.m.params: expected at most 1e15 (the bound of --params)"),
        ('[models.m]\nparams = "9B"\nactive_params = "10"\ntokens = "1T"\nsource = "x"\n', ["train", "m"],
         "models.m.active_params: expected at least 1,000"),
        ('[models.m]\nparams = "1B"\ntokens = "1e18"\nsource = "x"\n', ["fleet", "meta-24k"],
         "models.m.tokens: expected at most 1e17 (the bound of --tokens)"),
        ('[models.m]\nparams = "1B"\ntokens = "1T"\nsource = "x"\n[models.m.reported]\ngpus = 100000000\nsource = ""\n',
         ["train", "m"], "models.m.reported.gpus: expected at most 1e7 (the bound of --gpus)"),
        ('[clusters.c]\ngpu = "h100-sxm"\ngpus = 20000000\nsource = "x"\n', ["fleet", "c"],
         "clusters.c.gpus: expected at most 1e7 (the bound of --gpus), got 2e7"),
        (f'[runs.r]\nparams = "1e16"\ntokens = "1T"\naccelerator_hours = 1000\n{_RUN}', ["backtest"],
         "runs.r.params: expected at most 1e15"),
        (f'[runs.r]\nparams = "1e9"\ntokens = "1T"\ncount = 100000000\naccelerator_hours = 1e5\n{_RUN}', ["calibrate"],
         "runs.r.count: expected at most 1e7 (the bound of --gpus)"),
    ],
)  # fmt: skip
def test_preset_figures_past_their_options_bounds_are_refused(cli, tmp_path, preset, args, blamed):
    """A preset figure that an option also gives is held to that option's bounds, naming file and field."""
    (tmp_path / "p.toml").write_text(preset)
    done = cli(*args, "--presets", str(tmp_path))
    assert done.code == ExitCode.BAD_INPUT and blamed in done.stderr, done.stderr
    assert str(tmp_path / "p.toml") in done.stderr and done.stderr.count("\n") == 1


def test_the_readme_states_every_options_bounds():
    """The exit-code section's table of bounds is the one in inputs.INPUTS, option by option."""
    import re
    from pathlib import Path

    from llamacalc.inputs import INPUTS
    from llamacalc.setups import MAX_CAPEX

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Exit codes") : readme.index("## Presets")]
    rows = dict(re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|$", section, re.M))

    def number(text: str) -> float:
        return float(text.replace(",", ""))

    for spec in INPUTS.values():
        if spec.bounds is None:
            continue
        row = next((bounds for options, bounds in rows.items() if f"`{spec.option}`" in options), None)
        assert row is not None, f"{spec.option}: no row of bounds in the README"
        low, high = re.match(r"([\d.,e-]+) to ([\d.,e-]+)", row).groups()
        assert (number(low), number(high)) == spec.bounds, (spec.option, row)
    assert rows["`fleet --capex`"].startswith(f"0 to {MAX_CAPEX:.0e}".replace("e+", "e"))
