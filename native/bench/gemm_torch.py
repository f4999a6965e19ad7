"""PyTorch peer for `gpucore gemm-sweep`: device-resident matmul, CUDA-event timed.

Prints one line per case: `torch gemm <precision> <n> <ms>` (median of 7 loops of R matmuls,
after warm-up), for fp32 (TF32 off), tf32, bf16, fp16 (tensors of that type) and fp64.
"""
import sys
import torch

sizes = [int(s) for s in (sys.argv[1].split(",") if len(sys.argv) > 1 else ["1024", "4096", "8192"])]
dev = torch.device("cuda")
kinds = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16,
         "fp16": torch.float16, "fp64": torch.float64}
for name, dt in kinds.items():
    torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
    for n in sizes:
        g = torch.Generator(device=dev).manual_seed(n)
        # full-precision random values in the storage type (fp64 drawn as fp32 would leave the
        # low mantissa bits zero, which runs measurably faster); 16-bit types rounded from fp32
        gen_dt = dt if dt in (torch.float32, torch.float64) else torch.float32
        a = [torch.rand(n, n, device=dev, dtype=gen_dt, generator=g).to(dt) for _ in range(2)]
        b = [torch.rand(n, n, device=dev, dtype=gen_dt, generator=g).to(dt) for _ in range(2)]
        c = torch.empty(n, n, device=dev, dtype=dt)
        reps = max(2, min(50, int(2e12 / (2.0 * n ** 3))))
        for i in range(3):
            torch.matmul(a[i % 2], b[i % 2].t(), out=c)
        torch.cuda.synchronize()
        times = []
        for _ in range(7):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            for i in range(reps):
                torch.matmul(a[i % 2], b[i % 2].t(), out=c)
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e) / reps)
        times.sort()
        print(f"torch gemm {name} {n} {times[3]:.4f}", flush=True)
