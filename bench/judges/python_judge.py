#!/usr/bin/python3
"""bench_quality's judge for Python: CPython's own parser (ast.parse).

A long-lived helper (bench/judge.cpp starts it once): after a greeting line
("ready CPython <version> ast.parse") it reads sources framed as "<byte count>\n<bytes>"
on stdin and answers each with one line: "ok", or "error <message>" (the
message on one line, with its line and column). EOF ends it.
"""
import ast
import sys
import warnings


def verdict(source: bytes) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences are warnings, not errors
            ast.parse(source)
    except SyntaxError as e:
        return f"error {type(e).__name__}: {e.msg} (line {e.lineno}, column {e.offset})"
    except (ValueError, MemoryError, RecursionError) as e:  # e.g. a NUL byte in the source
        return f"error {type(e).__name__}: {e}"
    return "ok"


def main() -> None:
    out = sys.stdout
    out.write("ready CPython %d.%d.%d ast.parse\n" % sys.version_info[:3])
    out.flush()
    data = sys.stdin.buffer
    while True:
        header = data.readline()
        if not header:
            return
        source = data.read(int(header))
        out.write(verdict(source).replace("\n", " ") + "\n")
        out.flush()


if __name__ == "__main__":
    main()
