#!/usr/bin/python3
"""PyTorch side of bench_conv: the same conv2d shapes (tools/bench/shapes.json), float32,
channels_last, timed as forward, backward-input and backward-weight (aten::convolution_backward
with one output mask each, which is what autograd calls). Prints one JSON object:
{"torch_version": ..., "threads": T, "results": {shape: {"forward": ms, "forward_min": ms, ...}}}
(median and min over the repetitions)."""
import argparse
import json
import os
import re
import statistics
import sys
import time

import torch


def time_ms(fn, reps, warmup):
    """(median, min) wall time in ms."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated shape names (default: all)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    spec = json.load(open(args.shapes))
    n = spec["batch"]
    only = set(filter(None, args.only.split(",")))
    results = {}
    with torch.no_grad():
        for s in spec["shapes"]:
            if only and s["name"] not in only:
                continue
            c, oc, k, g = s["c"], s["oc"], s["k"], s["groups"]
            stride, pad = [s["stride"]] * 2, [s["pad"]] * 2
            x = torch.randn(n, c, s["h"], s["w"]).to(memory_format=torch.channels_last)
            w = torch.randn(oc, c // g, k, k).to(memory_format=torch.channels_last)
            y = torch.nn.functional.conv2d(x, w, None, stride, pad, 1, g)
            dy = torch.randn_like(y).contiguous(memory_format=torch.channels_last)

            def fwd():
                torch.nn.functional.conv2d(x, w, None, stride, pad, 1, g)

            def bwd(mask):
                return lambda: torch.ops.aten.convolution_backward(
                    dy, x, w, None, stride, pad, [1, 1], False, [0, 0], g, mask)

            passes = {"forward": fwd, "backward_input": bwd([True, False, False]),
                      "backward_weight": bwd([False, True, False])}
            results[s["name"]] = {}
            for name, fn in passes.items():
                med, low = time_ms(fn, args.reps, args.warmup)
                results[s["name"]][name] = med
                results[s["name"]][name + "_min"] = low
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    blas = found.group(1) if found else "unknown"
    # Debian's torch calls the system libblas.so.3: name the library it resolves to.
    try:
        blas += " (libblas.so.3 -> " + os.path.realpath(
            "/usr/lib/x86_64-linux-gnu/libblas.so.3") + ")"
    except OSError:
        pass
    json.dump({"torch_version": torch.__version__, "threads": torch.get_num_threads(),
               "mkldnn": torch.backends.mkldnn.is_available(), "blas": blas,
               "layout": "channels_last", "results": results}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
