#!/usr/bin/env python3
"""PyTorch reference timings for gpucore's reduction benchmark (native/bench/reduce_bench.cu).

Prints the same rows as reduce_bench: for each operation the median of 20 runs, each timed with
its own pair of CUDA events after 3 warm-up runs, the bandwidth (bytes read / time) and its
ratio to a device-to-device copy of the same bytes (whose bandwidth counts bytes read + written).
Inputs: 2^28 fp32 elements in [-1, 1) (fp64: 2^27, the same bytes); a 16384 x 16384 view for
the row and column sums.   Usage: python3 reduce_torch.py [log2 n (28)] [matrix side (16384)]
"""
import sys

import torch


def median_ms(fn, warm=3, reps=20):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
          for _ in range(reps)]
    for a, b in ev:
        a.record()
        fn()
        b.record()
    torch.cuda.synchronize()
    t = sorted(a.elapsed_time(b) for a, b in ev)
    return t[reps // 2]


copy_gbs = None


def row(name, size, nbytes, ms):
    gbs = nbytes / (ms * 1e-3) / 1e9
    if copy_gbs:
        print(f"{name:<30} {size:<16} {ms:9.4f} ms {gbs:8.1f} GB/s  {100 * gbs / copy_gbs:5.1f}% of copy")
    else:
        print(f"{name:<30} {size:<16} {ms:9.4f} ms {gbs:8.1f} GB/s  (read + written)")


def main():
    global copy_gbs
    lg = int(sys.argv[1]) if len(sys.argv) > 1 else 28
    side = int(sys.argv[2]) if len(sys.argv) > 2 else 16384
    n = 1 << lg
    dev = torch.device("cuda")
    p = torch.cuda.get_device_properties(dev)
    print(f"device: {p.name}, {p.multi_processor_count} SMs; torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}; n = 2^{lg} fp32; matrix {side}x{side} fp32")
    g = torch.Generator(device=dev).manual_seed(1234)
    x = torch.rand(n, device=dev, generator=g) * 2 - 1
    y = torch.rand(n, device=dev, generator=g) * 2 - 1
    z = torch.empty_like(x)
    d = (torch.rand(n // 2, device=dev, generator=g, dtype=torch.float64) * 2 - 1)
    nbytes = n * 4
    print(f"\n{'kernel':<30} {'size':<16} {'median':>12} {'bandwidth':>13}")
    ms = median_ms(lambda: z.copy_(x))
    row("torch copy_ d2d", "1 GiB", 2 * nbytes, ms)
    copy_gbs = 2 * nbytes / (ms * 1e-3) / 1e9
    s32 = f"2^{lg} f32"
    s64 = f"2^{lg - 1} f64"
    row("torch.sum f32", s32, nbytes, median_ms(lambda: torch.sum(x)))
    row("torch.sum f32 dtype=float64", s32, nbytes, median_ms(lambda: torch.sum(x, dtype=torch.float64)))
    row("torch.mean f32", s32, nbytes, median_ms(lambda: torch.mean(x)))
    row("torch.amax f32", s32, nbytes, median_ms(lambda: torch.amax(x)))
    row("torch.argmax f32", s32, nbytes, median_ms(lambda: torch.argmax(x)))
    row("torch.linalg.vector_norm f32", s32, nbytes, median_ms(lambda: torch.linalg.vector_norm(x)))
    row("torch.dot f32 (2 inputs)", s32, 2 * nbytes, median_ms(lambda: torch.dot(x, y)))
    row("torch.sum f64", s64, nbytes, median_ms(lambda: torch.sum(d)))
    row("torch.linalg.vector_norm f64", s64, nbytes, median_ms(lambda: torch.linalg.vector_norm(d)))
    if side * side <= n:
        m = x[: side * side].view(side, side)
        sz = f"{side}x{side} f32"
        mb = side * side * 4
        row("torch sum(dim=1) (row sums)", sz, mb, median_ms(lambda: m.sum(dim=1)))
        row("torch sum(dim=0) (col sums)", sz, mb, median_ms(lambda: m.sum(dim=0)))
        row("torch sum(dim=1, dtype=f64)", sz, mb, median_ms(lambda: m.sum(dim=1, dtype=torch.float64)))
        row("torch sum(dim=0, dtype=f64)", sz, mb, median_ms(lambda: m.sum(dim=0, dtype=torch.float64)))


if __name__ == "__main__":
    main()
