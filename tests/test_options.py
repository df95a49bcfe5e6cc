"""Option precedence is CLI > environment > ini > default, in one place."""
import pytest

from benchloop.options import OptionError, is_remote, resolve


def test_cli_beats_env_beats_ini():
    env = {"BENCHLOOP_MODEL": "from-env", "BENCHLOOP_HARNESS": "hermes"}
    ini = {"model": "from-ini", "harness": "qwen", "profile": "quick"}
    s = resolve({"model": "from-cli"}, env=env, ini=ini)
    assert s.model == "from-cli"
    assert s.harness == "hermes"  # env beats ini
    assert s.profile == "quick"  # ini beats default
    assert s.endpoint == "http://localhost:11434"  # default


def test_api_key_has_no_ini_form():
    s = resolve({}, env={}, ini={"api-key": "sk-from-a-file"})
    assert s.api_key is None
    assert "api_key" not in s.public()


@pytest.mark.parametrize(
    "cli, fragment",
    [
        ({"provider": "vllm"}, "unknown provider"),
        ({"profile": "tiny"}, "unknown profile"),
        ({"endpoint": "localhost:11434"}, "must start with http"),
        ({"timeout": "soon"}, "is not a number"),
        ({"max-tokens": "0"}, "positive"),
    ],
)
def test_bad_values_give_one_line_naming_the_fix(cli, fragment):
    with pytest.raises(OptionError) as ei:
        resolve(cli, env={})
    msg = str(ei.value)
    assert fragment in msg and "\n" not in msg


def test_remote_autodetect_and_override():
    assert is_remote(resolve({"endpoint": "https://api.example.com"}, env={}))
    assert not is_remote(resolve({"endpoint": "http://127.0.0.1:8080"}, env={}))
    assert not is_remote(resolve({"endpoint": "https://api.example.com", "remote": False}, env={}))
    assert is_remote(resolve({"endpoint": "http://localhost:1", "remote": True}, env={}))
    assert not is_remote(resolve({"provider": "llamacpp", "endpoint": "embedded"}, env={}))


def test_task_list_from_env_is_split():
    s = resolve({}, env={"BENCHLOOP_TASK": "rm-001, rm-002"})
    assert s.task == ["rm-001", "rm-002"]


def test_runs_dir_one_rule_for_every_command(monkeypatch, tmp_path):
    from benchloop.options import resolve, runs_dir

    monkeypatch.setenv("BENCHLOOP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BENCHLOOP_RUNS_DIR", raising=False)
    assert runs_dir() == str(tmp_path / "home" / "runs")
    monkeypatch.setenv("BENCHLOOP_RUNS_DIR", str(tmp_path / "env"))
    assert runs_dir() == str(tmp_path / "env")
    assert runs_dir(resolve({"model": "m"})) == str(tmp_path / "env")
    assert runs_dir(resolve({"model": "m", "runs-dir": str(tmp_path / "flag")})) == str(tmp_path / "flag")
    assert runs_dir(given=str(tmp_path / "given")) == str(tmp_path / "given")
    monkeypatch.chdir(tmp_path)
    assert runs_dir(given="rel") == str(tmp_path / "rel")  # stored absolute: the dashboard may run elsewhere


def test_threads_is_checked_before_anything_starts():
    assert resolve({"threads": "3"}, env={}).threads == 3
    assert resolve({}, env={"BENCHLOOP_THREADS": "2"}).threads == 2
    assert resolve({}, env={}).threads is None  # every core
    for bad in ("0", "-1"):
        with pytest.raises(OptionError, match="--threads must be between 1 and 1024"):
            resolve({"threads": bad}, env={})
    with pytest.raises(OptionError, match="not a number"):
        resolve({"threads": "many"}, env={})


def test_cli_and_plugin_flags_come_from_one_table():
    """`benchloop run` and the plugin register the same options from options.OPTIONS, and
    the CLI's values become --benchloop-* flags that the plugin's parser reads back to the
    same settings."""
    import argparse

    from benchloop.cli import build_parser
    from benchloop.options import OPTIONS, add_run_options, given_values, pytest_flags

    every = build_parser().parse_args(["run", "--local", "--resume", "r", *[f"--{name}=1" for name, *_ in OPTIONS]])
    assert all(v is not None for v in given_values(every).values())  # every option of the table is a flag of `run`
    args = build_parser().parse_args(["run", "-m", "x", "--timeout", "7.5", "--task", "rm-001", "--task", "rm-002", "--local", "--api-key", "sk-secret"])
    values = given_values(args)
    flags = pytest_flags(values)
    assert flags == ["--benchloop-model=x", "--benchloop-task=rm-001", "--benchloop-task=rm-002", "--benchloop-timeout=7.5", "--benchloop-local"]
    assert not any("sk-secret" in f for f in flags)  # the key travels in the environment only
    plugin = argparse.ArgumentParser()
    ini = {}
    add_run_options(plugin.add_argument, "--benchloop-", lambda name, help, default=None: ini.setdefault(name, help))
    back = given_values(plugin.parse_args(flags), "--benchloop-")
    assert resolve(back, env={}) == resolve(values | {"api-key": None}, env={})
    assert "benchloop_api_key" not in ini and {"benchloop_model", "benchloop_remote"} <= set(ini)


def test_suites_come_from_the_catalog():
    from benchloop.catalog import SUITES
    from benchloop.options import parse_suites

    assert parse_suites(None) == list(SUITES)
    assert parse_suites("reasonmath, toolcall") == ["reasonmath", "toolcall"]
    with pytest.raises(OptionError, match="unknown suite 'nosuch'; available: speed"):
        parse_suites("nosuch")
    with pytest.raises(OptionError, match="unknown harness"):
        resolve({"harness": "nosuch"}, env={})
