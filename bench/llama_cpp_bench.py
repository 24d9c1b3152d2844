"""llama.cpp on the same random-weight LFM2-2.6B-shaped checkpoint, for the table in cpu_quant_bench.py.

    python bench/llama_cpp_bench.py [--types Q4_K_M,Q4_0,Q8_0] [--threads 2] [--tokens 64] [--reps 5]
                                    [--model /tmp/lfm2-bench/quant/lfm2-2.6b-random] [--json FILE] [--build-only]

1. `pip download --no-binary :all: --no-deps llama-cpp-python`: its sdist vendors llama.cpp's source.
2. cmake builds `llama-bench`, `llama-batched-bench` and `llama-quantize` from it (Release, native CPU
   flags but AMX off, see `NO_AMX`; about 6 minutes on 2 cores, never part of `make test`).
3. The vendored `convert_hf_to_gguf.py` converts the checkpoint (the random bf16 one cpu_quant_bench.py
   writes; its tokenizer is LFM2's real one, which the converter recognises) to a bf16 GGUF, which
   `llama-quantize` turns into each of `--types`. The converter runs with this interpreter (it needs
   torch, numpy and transformers, which the gateway's environment has) and the vendored `gguf-py` on
   its path (the converter puts it there itself), so nothing is installed anywhere.
4. Batch 1: `llama-bench -p 0 -n TOKENS -r 1` (decode tokens/s); batch 4: `llama-batched-bench -npp 16
   -ntg TOKENS -npl 4` (total decode tokens/s, `speed_tg`), `--reps` times, the types in turn.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

WORK = Path("/tmp/lfm2-bench/llama-cpp")
TOOLS = ("llama-bench", "llama-batched-bench", "llama-quantize")


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("# $ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def vendored_source(work: Path) -> Path:
    found = sorted(glob.glob(str(work / "llama_cpp_python-*/vendor/llama.cpp")))
    if found:
        return Path(found[-1])
    work.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "llama-cpp-python",
         "-d", str(work)])
    (sdist,) = sorted(work.glob("llama_cpp_python-*.tar.gz"))[-1:]
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter="data")
    return Path(sorted(glob.glob(str(work / "llama_cpp_python-*/vendor/llama.cpp")))[-1])


# Native CPU flags without AMX: ggml's AMX matmul (taken for batched prompt work) dies of SIGILL at its first
# `tileloadd` in the VM these figures come from, though the CPU lists AMX and the kernel grants it; and
# vLLM's rows do not use AMX tiles for int8 either.
NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"


def build(source: Path, work: Path) -> Path:
    out = work / "build-noamx"
    if all((out / "bin" / t).exists() for t in TOOLS):
        return out / "bin"
    run(["cmake", "-S", str(source), "-B", str(out), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON",
         f"-DCMAKE_C_FLAGS={NO_AMX}", f"-DCMAKE_CXX_FLAGS={NO_AMX}",
         "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_SERVER=OFF",
         "-DLLAMA_BUILD_EXAMPLES=OFF"])
    run(["cmake", "--build", str(out), "--target", *TOOLS, "-j", str(os.cpu_count() or 2)])
    return out / "bin"


def gguf_path(kind: str, work: Path = WORK) -> Path:
    """Where the 2.6B shape's GGUF of one type (bf16, q4_k_m, ...) lives."""
    return work / f"lfm2-2.6b-{kind}.gguf"


def ggufs(source: Path, bins: Path, model: Path, types: list[str], work: Path) -> dict[str, Path]:
    base = gguf_path("bf16", work)
    if not base.exists():
        run([sys.executable, str(source / "convert_hf_to_gguf.py"), str(model), "--outtype", "bf16",
             "--outfile", str(base)])
    out = {}
    for kind in types:
        path = gguf_path(kind, work)
        if not path.exists():
            run([str(bins / "llama-quantize"), str(base), str(path), kind, str(os.cpu_count() or 2)],
                stdout=subprocess.DEVNULL)
        out[kind] = path
    return out


def batch1(bins: Path, model: Path, threads: int, tokens: int) -> float:
    result = run([str(bins / "llama-bench"), "-m", str(model), "-p", "0", "-n", str(tokens), "-t", str(threads),
                  "-r", "1", "-o", "json"], capture_output=True)
    (test,) = json.loads(result.stdout)
    return float(test["avg_ts"])


def batched(bins: Path, model: Path, threads: int, tokens: int, batch: int) -> float:
    result = run([str(bins / "llama-batched-bench"), "-m", str(model), "-c", "4096", "-b", "2048", "-ub", "512",
                  "-npp", "16", "-ntg", str(tokens), "-npl", str(batch), "-t", str(threads), "-tb", str(threads),
                  "--output-format", "jsonl"], capture_output=True)
    rows = [json.loads(x) for x in (result.stdout + result.stderr).splitlines() if x.startswith('{"n_kv_max"')]
    return float(rows[-1]["speed_tg"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--types", default="Q4_K_M,Q4_0,Q8_0", type=lambda s: s.split(","))
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--model", default="/tmp/lfm2-bench/quant/lfm2-2.6b-random")
    parser.add_argument("--work", default=str(WORK))
    parser.add_argument("--json", default=None)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    if shutil.which("cmake") is None:
        raise SystemExit("llama_cpp_bench: cmake is needed to build llama.cpp")
    work = Path(args.work)
    source = vendored_source(work)
    bins = build(source, work)
    if args.build_only:
        return
    models = ggufs(source, bins, Path(args.model), args.types, work)
    load = os.getloadavg()
    tok_s: dict[str, dict[str, list[float]]] = {k: {"1": [], "4": []} for k in args.types}
    for rep in range(args.reps):
        for kind in args.types if rep % 2 == 0 else args.types[::-1]:
            tok_s[kind]["1"].append(batch1(bins, models[kind], args.threads, args.tokens))
            tok_s[kind]["4"].append(batched(bins, models[kind], args.threads, args.tokens, 4))
            print(f"# {kind}: batch 1 {tok_s[kind]['1'][-1]:.1f}, batch 4 {tok_s[kind]['4'][-1]:.1f} tok/s",
                  file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    version = source.parent.parent.name
    print(f"\n## llama.cpp ({version} sdist's vendored source), LFM2-2.6B shape, random weights "
          f"({datetime.date.today()}, {platform.node()}, {os.cpu_count()} CPUs)\n")
    print(f"`{' '.join(sys.argv)}`; {args.threads} threads, {args.tokens} tokens, {args.reps} runs each; load "
          f"average before {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, after {load_after[0]:.2f} / "
          f"{load_after[1]:.2f} / {load_after[2]:.2f}\n")
    print("| type | file GiB | batch 1 tok/s median (min-max) | batch 4 total tok/s median (min-max) |")
    print("|---|---|---|---|")
    rows = []
    for kind in args.types:
        size = models[kind].stat().st_size / 2**30
        cells = [f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})" for v in tok_s[kind].values()]
        print(f"| {kind} | {size:.2f} | {cells[0]} | {cells[1]} |")
        rows.append({"type": kind, "size_gib": size, "tok_s": tok_s[kind]})
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "threads": args.threads}))


if __name__ == "__main__":
    main()
