"""A long-lived dbt for one chartflow command: the local twin of the Fargate task's `dbt build`.

Starting dbt costs about 1.8 s on this project's 2-core machine before it does any work (importing
dbt and its adapters), and loading the project another 0.5 s. A command that builds more than once
(a backfill day by day, the tests, the bench) or that starts it while the days are still being
loaded pays that once, here, instead of on every build (docs/architecture.md, "The transform").

Protocol, one JSON object per line: requests on stdin, answers on file descriptor 3 (dbt's own
output keeps stdout and stderr):

    {"id": 1, "command": "parse", "args": [...]}                    -> {"id": 1, "exitCode": 0}
    {"id": 2, "command": "build", "args": [...], "env": {...}}      -> {"id": 2, "exitCode": 0}

Before each answer, the worker ends the command's output with a line of its own on stdout and on
stderr, `\x1edone <id>\x1e` (`end_of_output`). Three pipes are read in no set order: without the
line, the answer could overtake the command's last output, and chartflow would lose why dbt failed.

The worker's own argument, `--work-dir <dbt's folder of the home>`, names the home in `ps` and is
where the worker keeps Jinja's compiled templates between processes (`jinja_code_cache.py`).
`args` are dbt's command-line arguments after the command name. `env` is set in the environment
for that build only (the transform batch's id, which the models read with env_var). The project
is parsed once, by the first request, and every build gets its own copy of that manifest
(`Manifest.deepcopy`, as dbt copies it itself): dbt changes the nodes it compiles, and a reused
manifest loses its ephemeral models' CTEs. Exit codes are dbt's: 0 success, 1 a failure dbt handled
(a model or a test failed), 2 an error.
"""

import gc
import json
import os
import signal
import sys
import traceback

# dbt's import builds a great many long-lived objects (its classes' generated serialisers), and so
# does the parse (the manifest). The collector would walk them again and again while it runs and
# never free one: it is held off during the import, and what the import and the parse built is
# moved out of its sight (gc.freeze), so that a build's collections walk only what the build makes.
gc.disable()
from dbt.cli.main import dbtRunner  # noqa: E402

gc.freeze()
gc.enable()

from jinja_code_cache import JinjaCodeCache  # noqa: E402


def release_duckdb():
    """Closes dbt-duckdb's database between builds, so that chartflow can open the file again.

    dbt-duckdb keeps one database per process for the process's life (DuckDBConnectionManager._ENV);
    a DuckDB file takes one writing process at a time, and chartflow's own handle waits meanwhile.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def end_of_output(request_id):
    """Ends a command's output on stdout and stderr (see the protocol above), after all it wrote."""
    marker = f"\x1edone {request_id}\x1e\n".encode()
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        stream.flush()
        os.write(fd, marker)


def exit_code(result):
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


class Stopped:
    """Set by SIGINT or SIGTERM (chartflow's stop): the command under way ends, and so does the worker."""

    signal = None

    @classmethod
    def handle(cls, signum, _frame):
        cls.signal = signum
        # As Python does by default: dbt stops the command under way (and cancels its queries).
        raise KeyboardInterrupt


def work_dir(argv):
    """The `--work-dir` argument, if given."""
    for flag, value in zip(argv, argv[1:]):
        if flag == "--work-dir":
            return value
    return None


def main():
    folder = work_dir(sys.argv[1:])
    jinja_cache = JinjaCodeCache(os.path.join(folder, "jinja-code.marshal")) if folder else None
    if jinja_cache:
        jinja_cache.install()
    signal.signal(signal.SIGINT, Stopped.handle)
    signal.signal(signal.SIGTERM, Stopped.handle)
    answers = os.fdopen(3, "w")
    manifest = None
    build_env = set()

    def parse(args):
        nonlocal manifest
        # The build writes the manifest.json of what it ran; the parse's would be overwritten unread.
        result = dbtRunner().invoke(["parse", "--no-write-json", *args])
        if result.success:
            manifest = result.result
            gc.freeze()
        return exit_code(result)

    for line in sys.stdin:
        request = json.loads(line)
        code = 2
        try:
            if request["command"] == "parse":
                code = parse(request["args"])
            elif request["command"] == "build":
                for name in build_env - request["env"].keys():
                    os.environ.pop(name, None)
                os.environ.update(request["env"])
                build_env = set(request["env"].keys())
                code = 0 if manifest is not None else parse(request["parseArgs"])
                if code == 0:
                    runner = dbtRunner(manifest=manifest.deepcopy())
                    code = exit_code(runner.invoke(["build", *request["args"]]))
            else:
                print(f"dbt worker: unknown command {request['command']!r}", file=sys.stderr)
        except Exception:
            traceback.print_exc()
            code = 2
        finally:
            release_duckdb()
            if jinja_cache:
                jinja_cache.save(prune=request.get("command") == "build")
            end_of_output(request["id"])
        if Stopped.signal is not None:
            # dbt turns the interrupt into a failed result; a stopped worker takes no more commands.
            code = 128 + Stopped.signal
        answers.write(json.dumps({"id": request["id"], "exitCode": code}) + "\n")
        answers.flush()
        if Stopped.signal is not None:
            sys.exit(code)


if __name__ == "__main__":
    try:
        main()
        import atexit
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    except KeyboardInterrupt:
        # Stopped while waiting for a command.
        sys.exit(128 + (Stopped.signal or signal.SIGINT))
