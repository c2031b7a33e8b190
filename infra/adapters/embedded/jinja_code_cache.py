"""Jinja's compiled templates, kept on disk between dbt processes of one chartflow home.

dbt renders every macro and model through Jinja, and Jinja turns each template's source into
Python code before it runs it: parsing the template, generating Python source, compiling that.
dbt keeps the result only for the life of its process, so each new `chartflow run` paid it again
for every macro its build used: a warm build in a new process took 3.8 s without this cache and
2.9 s with it, on the 2-core machine (docs/benchmark.md). This cache keeps the compiled code
(`marshal`, as Jinja's own bytecode cache does) in one file of the home's dbt folder.

An entry is the code of one (template source, name, file name) compiled by one kind of
environment: its class, its syntax and code-generation options, and its filters and tests with
how each is called, since the generated code depends on them. The file holds the versions of
Python, Jinja and dbt that compiled it, and is dropped whole when any differs. A build that
compiled something new (an edited model) writes only what the process used, so templates whose
source changed leave the file instead of piling up in it. With DBT_MACRO_DEBUGGING set, dbt
compiles as it always does (it puts the generated source where a debugger finds it).
"""

import hashlib
import marshal
import os
import sys
from importlib import metadata

import jinja2
from jinja2.utils import _PassArg

# Bumped when what an entry's key holds changes.
_FORMAT = 1


def _versions():
    def version(package):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return (_FORMAT, sys.version, jinja2.__version__, version("dbt-core"), version("dbt-common"))


def _callables(table):
    return tuple(sorted((name, str(_PassArg.from_obj(f))) for name, f in table.items()))


def _environment(env):
    """What of an environment shapes the code Jinja generates for a template."""
    autoescape = env.autoescape if isinstance(env.autoescape, bool) else "callable"
    return (
        type(env).__module__,
        type(env).__qualname__,
        env.code_generator_class.__qualname__,
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        tuple(sorted(env.extensions)),
        env.optimized,
        env.is_async,
        autoescape,
        None if env.finalize is None else str(_PassArg.from_obj(env.finalize)),
        _callables(env.filters),
        _callables(env.tests),
    )


class JinjaCodeCache:
    """Compiled templates by key, loaded from `path` and written back when a build added some."""

    def __init__(self, path):
        self.path = path
        self.codes = {}
        self.used = set()
        self.added = 0
        self.hits = 0
        try:
            with open(path, "rb") as file:
                versions, codes = marshal.load(file)
            if versions == _versions() and isinstance(codes, dict):
                self.codes = codes
        except (OSError, EOFError, ValueError, TypeError):
            # None yet, or not one this Python can read: compiled again, and written anew.
            pass

    def install(self):
        """Routes `jinja2.Environment.compile` (dbt's environments inherit it) through the cache."""
        original = jinja2.Environment.compile
        cache = self

        def compile(env, source, name=None, filename=None, raw=False, defer_init=False):
            if raw or not isinstance(source, str) or os.environ.get("DBT_MACRO_DEBUGGING"):
                return original(env, source, name, filename, raw, defer_init)
            key = hashlib.sha256(
                repr((source, name, filename, defer_init, _environment(env))).encode()
            ).digest()
            code = cache.codes.get(key)
            if code is not None:
                cache.hits += 1
            else:
                code = original(env, source, name, filename, raw, defer_init)
                cache.codes[key] = code
                cache.added += 1
            cache.used.add(key)
            return code

        jinja2.Environment.compile = compile

    def save(self, prune=False):
        """
        Writes the cache if this process compiled anything new (a new file, then renamed over the
        old); with `prune` (after a build, which uses every template a build needs), only what the
        process used.
        """
        if self.added == 0:
            return
        if prune:
            self.codes = {key: code for key, code in self.codes.items() if key in self.used}
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as file:
                marshal.dump((_versions(), self.codes), file)
            os.replace(temporary, self.path)
            self.added = 0
        except OSError as error:
            # A cache that cannot be written costs the next process time, not correctness.
            print(f"dbt worker: the Jinja cache was not saved: {error}", file=sys.stderr)
            try:
                os.remove(temporary)
            except OSError:
                pass
