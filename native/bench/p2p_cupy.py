#!/usr/bin/env python3
"""CuPy reference for `gpucore p2p-sweep --cupy FILE`: a 1 GiB peer copy with
cupy.cuda.runtime.memcpyPeerAsync, one way and both ways at once, timed with CUDA events.

Prints (stdout, one line each; GB/s = 1e9 bytes/s, median of --reps):
    cupy p2p uni <GB/s>     SRC -> DST, on a stream of SRC
    cupy p2p bidi <GB/s>    SRC -> DST and DST -> SRC at once, each on a stream of its source;
                            the bytes of both directions over the time from the first start to
                            the last end

Usage: python3 native/bench/p2p_cupy.py [--mib 1024] [--reps 10] [--src 0] [--dst 1] > cupy.txt
"""
import argparse
import statistics
import sys

try:
    import cupy as cp
except ImportError as e:  # say what is missing, in one line
    sys.exit("p2p_cupy.py: CuPy is not installed (%s); e.g. pip install cupy-cuda13x" % e)

rt = cp.cuda.runtime


def enable_peer(dev, peer):
    with cp.cuda.Device(dev):
        if not rt.deviceCanAccessPeer(dev, peer):
            sys.exit("p2p_cupy.py: CUDA does not allow peer access %d -> %d" % (dev, peer))
        try:
            rt.deviceEnablePeerAccess(peer)
        except rt.CUDARuntimeError as e:  # already enabled is fine
            if "AlreadyEnabled" not in str(e) and "already" not in str(e).lower():
                raise


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--src", type=int, default=0)
    p.add_argument("--dst", type=int, default=1)
    a = p.parse_args()
    if rt.getDeviceCount() < 2:
        sys.exit("p2p_cupy.py: needs two GPUs, found %d" % rt.getDeviceCount())
    s, d = a.src, a.dst
    n = a.mib << 20
    enable_peer(s, d)
    enable_peer(d, s)

    with cp.cuda.Device(s):
        src_s = cp.ones(n, dtype=cp.uint8)
        dst_s = cp.zeros(n, dtype=cp.uint8)
        stream_s = cp.cuda.Stream(non_blocking=True)
        start = cp.cuda.Event()
        end = cp.cuda.Event()
    with cp.cuda.Device(d):
        src_d = cp.ones(n, dtype=cp.uint8)
        dst_d = cp.zeros(n, dtype=cp.uint8)
        stream_d = cp.cuda.Stream(non_blocking=True)
        mid = cp.cuda.Event(disable_timing=True)

    def uni():
        with cp.cuda.Device(s):
            start.record(stream_s)
            rt.memcpyPeerAsync(dst_d.data.ptr, d, src_s.data.ptr, s, n, stream_s.ptr)
            end.record(stream_s)
            end.synchronize()
            return cp.cuda.get_elapsed_time(start, end) / 1e3

    def bidi():
        # start on SRC's stream; DST's stream waits for it, so both copies start together; SRC's
        # stream waits for DST's copy before the end event: elapsed time covers both
        with cp.cuda.Device(s):
            start.record(stream_s)
        with cp.cuda.Device(d):
            stream_d.wait_event(start)
        with cp.cuda.Device(s):
            rt.memcpyPeerAsync(dst_d.data.ptr, d, src_s.data.ptr, s, n, stream_s.ptr)
        with cp.cuda.Device(d):
            rt.memcpyPeerAsync(dst_s.data.ptr, s, src_d.data.ptr, d, n, stream_d.ptr)
            mid.record(stream_d)
        with cp.cuda.Device(s):
            stream_s.wait_event(mid)
            end.record(stream_s)
            end.synchronize()
            return cp.cuda.get_elapsed_time(start, end) / 1e3

    for f in (uni, bidi):
        for _ in range(a.warmup):
            f()
    u = statistics.median([uni() for _ in range(a.reps)])
    b = statistics.median([bidi() for _ in range(a.reps)])
    if not (int(dst_d[n - 1]) == 1 and int(dst_s[n - 1]) == 1):
        sys.exit("p2p_cupy.py: copied data is wrong")
    print("cupy p2p uni %.1f" % (n / u / 1e9))
    print("cupy p2p bidi %.1f" % (2 * n / b / 1e9))
    print("# %d MiB, GPU %d <-> GPU %d, median of %d, cupy %s" % (a.mib, s, d, a.reps,
          cp.__version__), file=sys.stderr)


if __name__ == "__main__":
    main()
