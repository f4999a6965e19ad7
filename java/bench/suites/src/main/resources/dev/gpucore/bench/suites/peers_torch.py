"""gpucore bench peer: PyTorch (GPU and CPU) and numpy, run by `gpucore bench` in the same run,
for every suite: transfer, e2e, gemm (device matmul per precision, bmm batches), reduce
(reductions and the device copy) and p2p (copies between two GPUs).

    python3 peers_torch.py --probe ORDINAL
    python3 peers_torch.py REQUEST.json

Prints one JSON object per line. A request names the suite, sizes (each with the number of
input buffers to rotate through), repetitions, warm-ups, the seed, the CUDA ordinal and the CPU
thread count. Inputs are the sequence of InputGen.java (splitmix64), so results can be checked
against gpucore's. Every figure is timed the way gpucore's own row is: time.perf_counter_ns()
around the operation and a torch.cuda.synchronize(), i.e. host time of completed work
("samples_ns"); where CUDA events apply they are recorded in the same runs ("event_samples_ns").
"""
import json
import sys
import time

GOLDEN = 0x9E3779B97F4A7C15
M64 = (1 << 64) - 1


def emit(**kw):
    print(json.dumps(kw), flush=True)


def splitmix_values(np, seed, n, dtype, value):
    """Element i = value(splitmix64(seed + (i+1)*GOLDEN)) for uint64 arrays, in chunks of 2^22."""
    out = np.empty(n, dtype=dtype)
    u = np.uint64
    step = 1 << 22
    for s in range(0, n, step):
        e = min(n, s + step)
        z = u(seed & M64) + np.arange(s + 1, e + 1, dtype=np.uint64) * u(GOLDEN)
        z = (z ^ (z >> u(30))) * u(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> u(27))) * u(0x94D049BB133111EB)
        out[s:e] = value(z ^ (z >> u(31)))
    return out


def gen(np, seed, n):
    """Element i = ((splitmix64(seed + (i+1)*GOLDEN) >> 40) + 0.5) * 2^-24, as float32."""
    return splitmix_values(np, seed, n, np.float32, lambda z: (
        ((z >> np.uint64(40)).astype(np.float64) + 0.5) * 2.0 ** -24).astype(np.float32))


def gen64(np, seed, n):
    """fp64 inputs with full mantissas: ((splitmix64(...) >> 12) + 0.5) * 2^-52, as GemmSuite.java."""
    return splitmix_values(np, seed, n, np.float64, lambda z: (
        (z >> np.uint64(12)).astype(np.float64) + 0.5) * 2.0 ** -52)


def imports():
    """(numpy, torch, why numpy is missing, why torch is missing)"""
    np = torch = None
    why_np = why_torch = ""
    try:
        import numpy as np  # noqa: F811
    except Exception as e:  # ImportError and broken installs alike
        why_np = "numpy: %s" % e
    try:
        import torch  # noqa: F811
    except Exception as e:
        why_torch = "torch: %s" % e
    return np, torch, why_np, why_torch


def cuda_state(torch, ordinal):
    if torch is None:
        return None, "torch is missing"
    try:
        if not torch.cuda.is_available():
            return None, "torch %s: CUDA not available (torch.cuda.is_available() is False)" % torch.__version__
        if ordinal >= torch.cuda.device_count():
            return None, "CUDA device %d does not exist for torch" % ordinal
        dev = torch.device("cuda:%d" % ordinal)
        torch.cuda.set_device(dev)  # events and streams below belong to this device
        return dev, ""
    except Exception as e:
        return None, "torch CUDA: %s" % e


def probe(ordinal):
    np, torch, why_np, why_torch = imports()
    if np is not None:
        emit(peer="numpy", available=True, version="numpy " + np.__version__)
    else:
        emit(peer="numpy", available=False, reason=why_np)
    if torch is None:
        emit(peer="torch", available=False, reason=why_torch)
        return
    if np is None:
        emit(peer="torch", available=False, reason="torch needs numpy here: " + why_np)
        return
    dev, why = cuda_state(torch, ordinal)
    v = "torch " + torch.__version__
    if dev is not None:
        v += ", CUDA %s, %s" % (torch.version.cuda, torch.cuda.get_device_name(dev))
    else:
        v += " (CPU only: %s)" % why
    emit(peer="torch", available=True, version=v, cuda=dev is not None, threads=torch.get_num_threads())


def timed(torch, dev, op, reps, warmup, events):
    """Runs op(i) warm-up then timed; returns (host samples, event samples or None)."""
    sync = (lambda: torch.cuda.synchronize(dev)) if dev is not None else (lambda: None)
    for w in range(warmup):
        op(-1 - w)
        sync()
    host, ev = [], []
    for i in range(reps):
        if events:
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter_ns()
        if events:
            a.record()
        op(i)
        if events:
            b.record()
        sync()
        host.append(time.perf_counter_ns() - t0)
        if events:
            ev.append(int(a.elapsed_time(b) * 1e6))
    return host, (ev if events else None)


def each_size(req, label, run):
    """run(size) for each of the request's sizes; a size that fails is reported (label(size), the
    error) as the peer being unavailable there, and the next size runs."""
    for size in req["sizes"]:
        try:
            run(size)
        except Exception as e:
            emit(peer="torch", unavailable="%s: %s: %s" % (label(size), type(e).__name__, e))


def transfer(req, np, torch, why_torch):
    reps, warmup, seed = req["reps"], req["warmup"], req["seed"]
    fp64 = req.get("dtype") == "fp64"
    dev, why_cuda = cuda_state(torch, req["cuda_ordinal"]) if torch is not None else (None, why_torch)
    each_size(req, lambda size: "transfer %s bytes" % size["x"],
              lambda size: transfer_size(req, np, torch, dev, why_cuda, size, reps, warmup, seed, fp64))


def transfer_size(req, np, torch, dev, why_cuda, size, reps, warmup, seed, fp64):
    nbytes, bufs = int(size["x"]), int(size["buffers"])
    n = nbytes // (8 if fp64 else 4)
    base = [gen(np, seed + j, n) for j in range(bufs)]
    if fp64:
        base = [b.astype(np.float64) for b in base]
    # host copies: numpy's copyto between two off-heap arrays, the peer of HostArray.put/get
    dst = [np.empty_like(b) for b in base]
    for case, src, to in (("put", base, dst), ("get", dst, base)):
        h, _ = timed(torch, None, lambda i: np.copyto(to[i % bufs], src[i % bufs]), reps, warmup, False)
        emit(peer="numpy", suite="transfer", group="host", case=case, x=nbytes, buffers=bufs,
             timing="host (perf_counter_ns around np.copyto)", samples_ns=h,
             label="np.copyto")
    del dst
    if dev is None:
        for group in ("H2D", "D2H"):
            for case in ("pinned", "pageable", "java"):
                emit(peer="torch", suite="transfer", group=group, case=case, x=nbytes, skipped=why_cuda)
        return
    dt = torch.float64 if fp64 else torch.float32
    d = torch.empty(n, dtype=dt, device=dev)
    pinned = [torch.from_numpy(b).pin_memory() for b in base]
    pageable = [torch.from_numpy(b.copy()) for b in base]
    ok = True
    d.copy_(pinned[0])
    back = torch.empty(n, dtype=dt)
    back.copy_(d)
    ok = bool(torch.equal(back, pageable[0]))
    cases = (
        ("H2D", "pinned", lambda i: d.copy_(pinned[i % bufs], non_blocking=True), "pinned tensor copy_"),
        ("D2H", "pinned", lambda i: pinned[i % bufs].copy_(d, non_blocking=True), "pinned tensor copy_"),
        ("H2D", "pageable", lambda i: d.copy_(pageable[i % bufs]), "pageable tensor copy_"),
        ("D2H", "pageable", lambda i: pageable[i % bufs].copy_(d), "pageable tensor copy_"),
        ("H2D", "java", lambda i: d.copy_(torch.from_numpy(base[i % bufs])), "numpy array (pageable) copy_"),
        ("D2H", "java", lambda i: d.cpu().numpy(), "tensor.cpu().numpy() (allocates)"),
    )
    for group, case, op, label in cases:
        h, ev = timed(torch, dev, op, reps, warmup, True)
        emit(peer="torch", suite="transfer", group=group, case=case, x=nbytes, buffers=bufs,
             timing="host-sync (perf_counter_ns around the copy + torch.cuda.synchronize)",
             samples_ns=h, event_samples_ns=ev, label=label,
             check="ok: round trip bit-exact" if ok else "MISMATCH: round trip changed the data")
    del d, pinned, pageable, back
    torch.cuda.empty_cache()


def e2e(req, np, torch, why_torch):
    reps, warmup, seed = req["reps"], req["warmup"], req["seed"]
    dev, why_cuda = cuda_state(torch, req["cuda_ordinal"])
    fp64 = req.get("dtype") == "fp64"
    prec = req.get("precision") or ("fp64" if fp64 else "fp32")
    # fp32 means fp32, as in gpucore; tf32 only when asked for
    torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
    each_size(req, lambda size: "e2e n=%s" % size["x"],
              lambda size: e2e_size(np, torch, dev, why_cuda, size, reps, warmup, seed, fp64, prec))


def e2e_size(np, torch, dev, why_cuda, size, reps, warmup, seed, fp64, prec):
    n, bufs = int(size["x"]), int(size["buffers"])
    base = [gen(np, seed + j, n * n).reshape(n, n) for j in range(bufs)]
    if fp64:
        base = [b.astype(np.float64) for b in base]
    # GPU products in bf16/fp16: inputs cast on the device, fp32 accumulate, C in that type
    low = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(prec)
    # CPU: torch on the same threads as gpucore's CPU backend
    a = [torch.from_numpy(b) for b in base]
    stages = {"gemm": [], "sum": []}

    def cpu_op(i, buf=None):
        x = a[i % bufs if buf is None else buf]
        t0 = time.perf_counter_ns()
        c = x @ x.T
        t1 = time.perf_counter_ns()
        s = c.sum(dtype=torch.float64).item()
        t2 = time.perf_counter_ns()
        if i >= 0:
            stages["gemm"].append(t1 - t0)
            stages["sum"].append(t2 - t1)
        return s

    sum0 = cpu_op(-1, buf=0)  # the check run, on buffer 0 as every peer
    h, _ = timed(torch, None, cpu_op, reps, warmup, False)
    emit(peer="torch", suite="e2e", group="e2e", case="cpu", x=n, buffers=bufs,
         timing="host (perf_counter_ns; .item() waits for the sum)", samples_ns=h,
         stages=stages, sum=sum0, threads=torch.get_num_threads(),
         label="CPU x @ x.T + sum(float64)")
    del a
    if dev is None:
        emit(peer="torch", suite="e2e", group="e2e", case="gpu", x=n, skipped=why_cuda)
        return
    gstages = {"upload": [], "gemm": [], "sum": []}
    gemm_ev = []

    def gpu_op(i, buf=None):
        t0 = time.perf_counter_ns()
        x = torch.from_numpy(base[i % bufs if buf is None else buf]).to(dev)
        torch.cuda.synchronize(dev)
        t1 = time.perf_counter_ns()
        ea = torch.cuda.Event(enable_timing=True)
        eb = torch.cuda.Event(enable_timing=True)
        ea.record()
        if low is not None:
            x = x.to(low)
        c = x @ x.T
        eb.record()
        torch.cuda.synchronize(dev)
        t2 = time.perf_counter_ns()
        s = c.sum(dtype=torch.float64).item()
        t3 = time.perf_counter_ns()
        if i >= 0:
            gstages["upload"].append(t1 - t0)
            gstages["gemm"].append(t2 - t1)
            gstages["sum"].append(t3 - t2)
            gemm_ev.append(int(ea.elapsed_time(eb) * 1e6))
        return s

    gsum0 = gpu_op(-1, buf=0)
    h, _ = timed(torch, dev, gpu_op, reps, warmup, False)
    emit(peer="torch", suite="e2e", group="e2e", case="gpu", x=n, buffers=bufs,
         timing="host-sync (perf_counter_ns; synchronize after each stage)", samples_ns=h,
         stages=gstages, gemm_event_samples_ns=gemm_ev, sum=gsum0,
         label="GPU numpy .to(cuda), x @ x.T, sum" + ("" if prec in ("fp32", "fp64") else " (%s)" % prec))
    torch.cuda.empty_cache()


def gemm(req, np, torch):
    """Device-resident C = A*B^T per precision, as gpucore's device rows: A_j = seed + 2j,
    B_j = seed + 2j + 1 (j = 0, 1, alternated), bf16/fp16 tensors rounded from the fp32 values
    on the device, fp64 drawn in fp64; samples of R matmuls (gpucore's R when given) between
    perf_counter_ns and a synchronize, per call; CUDA events around the same loops beside.
    Then the batched cases ("batched"), see bmm_case."""
    dev, why_cuda = cuda_state(torch, req["cuda_ordinal"])
    reps, warmup, seed = req["reps"], req["warmup"], req["seed"]
    target = int(req.get("sample_ms", 25)) * 1000000
    device_cases(np, torch, dev, why_cuda, req, reps, warmup, seed, target)
    for case in req.get("batched", []):
        try:
            bmm_case(np, torch, dev, why_cuda, case, reps, warmup, seed, target)
        except Exception as e:  # out of memory and the like: report and go on
            for form in BMM_FORMS:
                emit(peer="torch", suite="gemm", group="batched", case=form, x=int(case["x"]),
                     skipped="%s: %s" % (type(e).__name__, str(e).split("\n")[0][:200]))
            if dev is not None:
                torch.cuda.empty_cache()


def device_cases(np, torch, dev, why_cuda, req, reps, warmup, seed, target):
    cases = sorted(req.get("device", []), key=lambda c: int(c["x"]))  # inputs shared per size
    cache = {}
    for case in cases:
        prec, n = case["precision"], int(case["x"])
        if dev is None:
            emit(peer="torch", suite="gemm", group="device", case=prec, x=n, skipped=why_cuda)
            continue
        if cache.get("n") != n:
            cache = {"n": n}
            torch.cuda.empty_cache()
        try:
            gemm_case(np, torch, dev, cache, prec, n, int(case.get("calls") or 0), reps, warmup,
                      seed, target)
        except Exception as e:  # out of memory and the like: report and go on
            emit(peer="torch", suite="gemm", group="device", case=prec, x=n,
                 skipped="%s: %s" % (type(e).__name__, str(e).split("\n")[0][:200]))
            torch.cuda.empty_cache()


def gemm_case(np, torch, dev, cache, prec, n, calls, reps, warmup, seed, target):
    dt = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16,
          "fp16": torch.float16, "fp64": torch.float64}[prec]
    fp64 = prec == "fp64"
    torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"  # fp32 means fp32, as in gpucore

    def host(j):
        key = ("d" if fp64 else "f", j)
        if key not in cache:
            cache[key] = (gen64(np, seed + j, n * n) if fp64 else gen(np, seed + j, n * n)).reshape(n, n)
        return cache[key]

    x = [torch.from_numpy(host(j)).to(dev).to(dt) for j in range(4)]
    a, b = [x[0], x[2]], [x[1], x[3]]
    c = torch.empty(n, n, dtype=dt, device=dev)

    def op(i):
        torch.matmul(a[i & 1], b[i & 1].t(), out=c)

    c.fill_(float("nan"))
    op(0)
    torch.cuda.synchronize(dev)
    total = c.sum(dtype=torch.float64).item()
    for i in range(warmup):
        op(i)
    torch.cuda.synchronize(dev)

    def run(r):
        for i in range(r):
            op(i)

    def loop(r):
        t0 = time.perf_counter_ns()
        run(r)
        torch.cuda.synchronize(dev)
        return time.perf_counter_ns() - t0

    if calls <= 0:  # gpucore's row did not run: find R the same way
        calls = 1
        t = loop(calls)
        while t < target // 5 and calls < 5000:
            calls = min(5000, calls * 2)
            t = loop(calls)
        if t < 2 * target:  # the faster of two: one hiccup must not set R
            t = min(t, loop(calls))
        calls = max(1, min(5000, -(-target * calls // max(1, t))))
    host_ns, ev_ns = event_samples(torch, dev, reps, calls, run)
    m = torch.backends.cuda.matmul
    emit(peer="torch", suite="gemm", group="device", case=prec, x=n, calls_per_sample=calls,
         timing="host-sync (perf_counter_ns around %d matmuls + synchronize) / %d" % (calls, calls),
         samples_ns=host_ns, event_samples_ns=ev_ns, sum=total, dtype=str(dt).replace("torch.", ""),
         allow_tf32=bool(m.allow_tf32),
         allow_fp16_reduced_precision_reduction=bool(m.allow_fp16_reduced_precision_reduction),
         allow_bf16_reduced_precision_reduction=bool(m.allow_bf16_reduced_precision_reduction),
         label="torch.matmul(a, b.t(), out=c) %s" % prec)
    del x, a, b, c



# gpucore's batched forms (GemmBatched.FORMS): each gets the same torch.bmm figure
BMM_FORMS = ("pointer", "prepared", "strided")


def bmm_case(np, torch, dev, why_cuda, case, reps, warmup, seed, target):
    """A batched case of gpucore's batched rows: C_i = A_i*B_i in fp32 (TF32 off), A batch x m x
    k (seed), B batch x k x n (seed + 1), as torch.bmm(a, b, out=c); checked against a float64
    bmm on the GPU (C poisoned first), then timed with CUDA events around R calls (gpucore's R
    when given), per call. One line per gpucore form (BMM_FORMS), the same figure."""
    b, m, n, k, x = (int(case[key]) for key in ("batch", "m", "n", "k", "x"))
    if dev is None:
        for form in BMM_FORMS:
            emit(peer="torch", suite="gemm", group="batched", case=form, x=x, skipped=why_cuda)
        return
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, as in gpucore
    a = torch.from_numpy(gen(np, seed, b * m * k).reshape(b, m, k)).to(dev)
    bb = torch.from_numpy(gen(np, seed + 1, b * k * n).reshape(b, k, n)).to(dev)
    c = torch.empty(b, m, n, dtype=torch.float32, device=dev)
    c.fill_(float("nan"))
    torch.bmm(a, bb, out=c)
    torch.cuda.synchronize(dev)
    ref = torch.bmm(a.double(), bb.double())
    err = float(((c.double() - ref).abs().max() / ref.abs().max()).item())
    bound = 1e-5 * k ** 0.5
    ok = err <= bound  # NaN compares false
    total = c.sum(dtype=torch.float64).item()
    del ref

    def op():
        torch.bmm(a, bb, out=c)

    calls = int(case.get("calls") or 0)
    for _ in range(warmup):
        op()
    torch.cuda.synchronize(dev)

    def run(r):
        for _ in range(r):
            op()

    if calls <= 0:  # gpucore's row did not run: find R the same way
        calls, t = 1, 0
        while True:
            t0 = time.perf_counter_ns()
            run(calls)
            torch.cuda.synchronize(dev)
            t = time.perf_counter_ns() - t0
            if t >= target // 5 or calls >= 5000:
                break
            calls = min(5000, calls * 2)
        calls = max(1, min(5000, -(-target * calls // max(1, t))))
    host_ns, ev_ns = event_samples(torch, dev, reps, calls, run)
    for form in BMM_FORMS:
        emit(peer="torch", suite="gemm", group="batched", case=form, x=x, calls_per_sample=calls,
             timing="CUDA events around %d bmm calls / %d (host time in host_samples_ns)" % (calls, calls),
             samples_ns=ev_ns, host_samples_ns=host_ns, sum=total, allow_tf32=False,
             check=("ok" if ok else "MISMATCH") + ": max error / max |C| %.1e vs float64 bmm (bound %.1e)" % (err, bound),
             label="torch.bmm(a, b, out=c) fp32")
    del a, bb, c
    torch.cuda.empty_cache()


def calibrated(torch, dev, op, reps, warmup, target_ns, max_calls=20000):
    """Samples of R calls (R for >= target_ns), per call, as gpucore's loops: host time of
    R calls then one synchronize; CUDA events around the same loops beside."""
    for i in range(warmup):
        op()
    torch.cuda.synchronize(dev)

    def run(r):
        for _ in range(r):
            op()

    calls = 1
    while True:
        t0 = time.perf_counter_ns()
        run(calls)
        torch.cuda.synchronize(dev)
        t = time.perf_counter_ns() - t0
        if t >= target_ns // 4 or calls >= max_calls:
            break
        calls = min(max_calls, calls * 4)
    calls = max(1, min(max_calls, -(-target_ns * calls // max(1, t))))
    host, ev = event_samples(torch, dev, reps, calls, run)
    return calls, host, ev


def event_samples(torch, dev, reps, calls, run):
    """reps samples of run(calls), which makes that many calls: the host time of the calls and
    one synchronize, and CUDA events around the same loop, each per call in ns."""
    host, ev = [], []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        t0 = time.perf_counter_ns()
        a.record()
        run(calls)
        b.record()
        torch.cuda.synchronize(dev)
        host.append(round((time.perf_counter_ns() - t0) / calls))
        ev.append(round(a.elapsed_time(b) * 1e6 / calls))
    return host, ev


def reduce_suite(req, np, torch):
    """The reduce suite's cases on the same values (InputGen's sequence minus 0.5, seed for x,
    seed + 1 for y): sync = the op and .item() (row/column sums: .cpu()); queued = the op into
    a preallocated output, R calls then one synchronize; copy = d.copy_(x)."""
    dev, why_cuda = cuda_state(torch, req["cuda_ordinal"])
    reps, warmup, seed = req["reps"], req["warmup"], req["seed"]
    target = int(req.get("sample_ms", 10)) * 1000000
    ops, modes = req["ops"], req["modes"]
    for dt in req["dtypes"]:
        for size in req["sizes"]:
            n, rows, cols = int(size["x"]), int(size["rows"]), int(size["cols"])
            cases = [(dt + " copy", "copy")] + [(dt + " " + m, op) for m in modes for op in ops]
            if dev is None:
                for group, case in cases:
                    emit(peer="torch", suite="reduce", group=group, case=case, x=n, skipped=why_cuda)
                continue
            try:
                reduce_size(np, torch, dev, dt, n, rows, cols, ops, modes, reps, warmup, seed, target)
            except Exception as e:  # out of memory and the like: report and go on
                why = "%s: %s" % (type(e).__name__, str(e).split("\n")[0][:200])
                for group, case in cases:
                    emit(peer="torch", suite="reduce", group=group, case=case, x=n, skipped=why)
                torch.cuda.empty_cache()


def reduce_size(np, torch, dev, dt, n, rows, cols, ops, modes, reps, warmup, seed, target):
    tdt = torch.float64 if dt == "fp64" else torch.float32
    x = torch.from_numpy(gen(np, seed, n).astype(np.float64) - 0.5).to(dev).to(tdt)
    y = torch.from_numpy(gen(np, seed + 1, n).astype(np.float64) - 0.5).to(dev).to(tdt) if "dot" in ops else None
    z = torch.empty_like(x)
    m = x.view(rows, cols)
    o0 = torch.empty((), dtype=tdt, device=dev)
    oi = torch.empty((), dtype=torch.int64, device=dev)
    orow = torch.empty(rows, dtype=tdt, device=dev)
    ocol = torch.empty(cols, dtype=tdt, device=dev)
    calls, h, ev = calibrated(torch, dev, lambda: z.copy_(x), reps, warmup, target)
    emit(peer="torch", suite="reduce", group=dt + " copy", case="copy", x=n, calls_per_sample=calls,
         timing="host (perf_counter_ns around %d copies + synchronize) / %d" % (calls, calls),
         samples_ns=h, event_samples_ns=ev, label="z.copy_(x)")
    sync_ops = {
        "sum": (lambda: torch.sum(x).item(), "torch.sum(x).item()"),
        "max": (lambda: torch.amax(x).item(), "torch.amax(x).item()"),
        "argmax": (lambda: torch.argmax(x).item(), "torch.argmax(x).item()"),
        "norm2": (lambda: torch.linalg.vector_norm(x).item(), "vector_norm(x).item()"),
        "dot": (lambda: torch.dot(x, y).item(), "torch.dot(x, y).item()"),
        "rowsum": (lambda: m.sum(dim=1).cpu(), "m.sum(dim=1).cpu()"),
        "colsum": (lambda: m.sum(dim=0).cpu(), "m.sum(dim=0).cpu()"),
    }
    queued_ops = {
        "sum": (lambda: torch.sum(x, dim=0, out=o0), "torch.sum(x, dim=0, out=o)"),
        "max": (lambda: torch.amax(x, dim=0, out=o0), "torch.amax(x, dim=0, out=o)"),
        "argmax": (lambda: torch.argmax(x, dim=0, out=oi), "torch.argmax(x, dim=0, out=o)"),
        "norm2": (lambda: torch.linalg.vector_norm(x, out=o0), "vector_norm(x, out=o)"),
        "dot": (lambda: torch.dot(x, y, out=o0), "torch.dot(x, y, out=o)"),
        "rowsum": (lambda: torch.sum(m, dim=1, out=orow), "torch.sum(m, dim=1, out=o)"),
        "colsum": (lambda: torch.sum(m, dim=0, out=ocol), "torch.sum(m, dim=0, out=o)"),
    }
    for mode in modes:
        table = sync_ops if mode == "sync" else queued_ops
        for op in ops:
            fn, label = table[op]
            calls, h, ev = calibrated(torch, dev, fn, reps, warmup, target)
            emit(peer="torch", suite="reduce", group=dt + " " + mode, case=op, x=n,
                 calls_per_sample=calls,
                 timing="host (perf_counter_ns around %d calls + synchronize) / %d" % (calls, calls),
                 samples_ns=h, event_samples_ns=ev, label=label)
    del x, y, z, m
    torch.cuda.empty_cache()


def p2p_suite(req, np, torch):
    """The large peer copy of the p2p suite between CUDA devices `from` and `to`: b.copy_(a)
    one way, and both ways at once (two streams), timed as gpucore's rows: host time of one
    synchronous copy (perf_counter_ns around the copy and the synchronizes)."""
    reps, warmup = req["reps"], req["warmup"]
    size = req["sizes"][0]
    nbytes = int(size["x"])
    if req.get("from", -1) < 0:
        for case in ("uni", "bidi"):
            emit(peer="torch", suite="p2p", group="peer", case=case, x=nbytes,
                 skipped=req.get("no_gpu", "no GPU"))
        return
    if not torch.cuda.is_available() or torch.cuda.device_count() < 2:
        for case in ("uni", "bidi"):
            emit(peer="torch", suite="p2p", group="peer", case=case, x=nbytes,
                 skipped="torch sees fewer than two CUDA devices")
        return
    d0 = torch.device("cuda:%d" % req["from"])
    d1 = torch.device("cuda:%d" % req["to"])
    n = nbytes // 4
    a0 = torch.ones(n, dtype=torch.float32, device=d0)
    b0 = torch.empty(n, dtype=torch.float32, device=d0)
    a1 = torch.full((n,), 2.0, dtype=torch.float32, device=d1)
    b1 = torch.empty(n, dtype=torch.float32, device=d1)
    s0 = torch.cuda.Stream(device=d0)
    s1 = torch.cuda.Stream(device=d1)

    def sync():
        torch.cuda.synchronize(d0)
        torch.cuda.synchronize(d1)

    def uni(i):
        b1.copy_(a0)
        sync()

    def bidi(i):
        with torch.cuda.stream(s0):
            b1.copy_(a0, non_blocking=True)
        with torch.cuda.stream(s1):
            b0.copy_(a1, non_blocking=True)
        sync()

    for case, op, label in (("uni", uni, "b.copy_(a) across devices"),
                            ("bidi", bidi, "both ways at once, a stream each")):
        h, _ = timed(torch, None, op, reps, warmup, False)
        ok = bool(torch.all(b1[:1024] == 1.0).item())
        emit(peer="torch", suite="p2p", group="peer", case=case, x=nbytes, samples_ns=h,
             timing="host (perf_counter_ns around the copy + synchronize)", label=label,
             check="ok: data arrived" if ok else "MISMATCH: wrong data after the copy")
    del a0, b0, a1, b1
    torch.cuda.empty_cache()

def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--probe":
        probe(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
        return
    with open(sys.argv[1]) as f:
        req = json.load(f)
    np, torch, why_np, why_torch = imports()
    if np is None:
        emit(peer="torch", unavailable=why_np)
        emit(peer="numpy", unavailable=why_np)
        return
    if torch is not None and req.get("threads", 0) > 0:
        torch.set_num_threads(int(req["threads"]))
    suite = req["suite"]
    if suite == "transfer":
        transfer(req, np, torch, why_torch)
    elif suite == "e2e":
        if torch is None:
            emit(peer="torch", unavailable=why_torch)
            return
        e2e(req, np, torch, why_torch)
    elif suite == "gemm":
        if torch is None:
            emit(peer="torch", unavailable=why_torch)
            return
        gemm(req, np, torch)
    elif suite in ("reduce", "p2p"):
        if torch is None:
            emit(peer="torch", unavailable=why_torch)
            return
        (reduce_suite if suite == "reduce" else p2p_suite)(req, np, torch)
    else:
        emit(peer="torch", unavailable="suite '%s' has no torch peer yet" % suite)


if __name__ == "__main__":
    main()
