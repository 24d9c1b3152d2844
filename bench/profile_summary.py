"""Where the API process spends its time, from py-spy's collapsed stacks (`--format raw`).

    python bench/profile_summary.py /tmp/lfm2-bench/profile-gateway-plain.txt [--top 25] [--thread MainThread]

Takes `py-spy record --format raw` output, with or without `--native` and `--threads`; with `--native`,
samples whose innermost frame is a wait (epoll, poll, a condition variable) count as idle and are
left out. Prints the share of samples by the package of the innermost frame (self time), the share whose
stack passes through the gateway's own code (inclusive), and the busiest innermost functions.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
OURS = ("server/", "tool_parser/")
IDLE = ("epoll_wait", "epoll_pwait", "poll", "select", "pthread_cond_wait", "pthread_cond_timedwait")


def package(path: str) -> str:
    if "site-packages" not in path and any(path.startswith(p) or "/" + p in path for p in OURS):
        return "ours:" + "/".join(path.rsplit("/", 2)[-2:])
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/lib/python3" in path:
        return "stdlib:" + path.rsplit("/lib/python3", 1)[1].split("/", 2)[1].removesuffix(".py")
    return path or "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stacks")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--thread", default=None, help="only stacks of this thread (py-spy --threads)")
    args = parser.parse_args()
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    ours_inclusive = 0
    total = idle = 0
    for line in Path(args.stacks).read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        if args.thread and args.thread not in stack.split(";", 1)[0]:
            continue
        frames = [FRAME.match(f) for f in stack.split(";")]
        parsed = [(m.group("func"), m.group("file") or "") for m in frames if m]
        if not parsed:
            continue
        func, path = parsed[-1]
        if func in IDLE:
            idle += count
            continue
        total += count
        by_package[package(path)] += count
        by_function[f"{func} ({package(path)})"] += count
        if any(package(p).startswith("ours:") and not p.endswith("server/cli.py") for _, p in parsed):
            ours_inclusive += count
    share = 100 * ours_inclusive / max(total, 1)
    print(f"{total} busy samples ({idle} idle left out); stacks through our code (inclusive): {share:.1f}%\n")
    print("| self time by package | % |\n|---|---|")
    for name, count in by_package.most_common(args.top):
        print(f"| {name} | {100 * count / total:.1f} |")
    print("\n| innermost function | % |\n|---|---|")
    for name, count in by_function.most_common(args.top):
        print(f"| {name} | {100 * count / total:.1f} |")


if __name__ == "__main__":
    main()
