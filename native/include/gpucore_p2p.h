/*
 * gpucore peer-to-peer: copies between GPUs and what the CUDA runtime says about each pair
 * (native/src/p2p.cu). Usable on its own; the Java side binds it as PeerNative.
 *
 * Every function returns a gc_status (0, a positive CUDA runtime error code, or a negative
 * gpucore code; see gpucore.h) and never throws, aborts or prints. Devices are CUDA ordinals;
 * addresses (device, page-locked host), streams (cudaStream_t) and events (cudaEvent_t) travel
 * as void*. Functions that name a device make it current on the calling thread.
 *
 * Peer access is what cudaDeviceEnablePeerAccess grants: after gc_p2p_enable(a, b) device a's
 * copy engines and kernels may touch b's memory. gpucore enables both directions of a pair and
 * trusts it only after gc_p2p_probe has written a known pattern across and checked it on the far
 * side within a time limit (peer access can claim success and drop data, or hang, behind an
 * IOMMU). Pairs that fail go through page-locked host memory instead (gc_p2p_staged).
 */
#ifndef GPUCORE_P2P_H
#define GPUCORE_P2P_H

#include <stddef.h>

#include "gpucore_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How gc_p2p_wait / gc_p2p_copy_wait wait for the stream. */
#define GC_P2P_WAIT_BLOCK 0       /* cudaStreamSynchronize */
#define GC_P2P_WAIT_SPIN_STREAM 1 /* spin on cudaStreamQuery */
#define GC_P2P_WAIT_SPIN_EVENT 2  /* record the event, spin on cudaEventQuery */

/* Verdicts of gc_p2p_probe. */
#define GC_P2P_PROBE_OK 0
#define GC_P2P_PROBE_MISMATCH 1      /* the copy finished but words differ: *detail = how many */
#define GC_P2P_PROBE_COPY_TIMEOUT 2  /* the peer copy did not finish in time */
#define GC_P2P_PROBE_CHECK_TIMEOUT 3 /* the checksum on the destination did not finish in time */

/* Indices into gc_p2p_attributes' output. */
#define GC_P2P_ATTR_PERFORMANCE_RANK 0
#define GC_P2P_ATTR_ACCESS_SUPPORTED 1
#define GC_P2P_ATTR_NATIVE_ATOMICS 2
#define GC_P2P_ATTR_ARRAY_ACCESS 3
#define GC_P2P_ATTR_COUNT 4

/* *can = 1 when `device` can access `peer`'s memory directly (cudaDeviceCanAccessPeer). */
gc_status gc_p2p_can_access(int device, int peer, int* can);

/*
 * cudaDeviceGetP2PAttribute for src -> dst into attrs[GC_P2P_ATTR_COUNT]: performance rank
 * (lower is faster), access supported, native atomics, CUDA array access. An attribute the
 * runtime cannot give is -1; the status is that of the first failing query (0 if none).
 */
gc_status gc_p2p_attributes(int src, int dst, int* attrs);

/*
 * Lets `device` access `peer`'s memory (cudaDeviceEnablePeerAccess with `device` current).
 * Already enabled (cudaErrorPeerAccessAlreadyEnabled) is success; the error is cleared.
 */
gc_status gc_p2p_enable(int device, int peer);

/* The reverse of gc_p2p_enable; not enabled (cudaErrorPeerAccessNotEnabled) is success. */
gc_status gc_p2p_disable(int device, int peer);

/*
 * Write-then-checksum probe of src -> dst: fills `bytes` (rounded up to 4) on src with a pattern,
 * zeroes the same on dst, copies with cudaMemcpyPeerAsync on a stream of src, counts the words
 * on dst that differ from the pattern, each step bounded by `timeout_ms` (event polling). On a
 * timeout the buffers are abandoned (freeing them could block on the stuck copy). *verdict is a
 * GC_P2P_PROBE_*; *detail the mismatching words (MISMATCH) or the copy's microseconds (OK).
 * Peer access must have been enabled first. The status reports CUDA failures only.
 */
gc_status gc_p2p_probe(int src, int dst, size_t bytes, int timeout_ms, int* verdict,
                       long long* detail);

/* A non-blocking stream on `device`. */
gc_status gc_p2p_stream_create(int device, void** out);
/* A timing-free event on `device`. */
gc_status gc_p2p_event_create(int device, void** out);
/* Destroys streams and events (NULL is ignored), with `device` current. */
gc_status gc_p2p_stream_destroy(int device, void* stream);
gc_status gc_p2p_event_destroy(int device, void* event);
/* cudaStreamWaitEvent: `stream` waits for `event` (may belong to another device). */
gc_status gc_p2p_stream_wait_event(void* stream, void* event);
/* cudaEventRecord of `event` on `stream` (both of one device). */
gc_status gc_p2p_event_record(void* event, void* stream);

/*
 * Queues a copy of `bytes` from src (on src_device) to dst (on dst_device) on `stream`, a stream
 * of `issue_device` (made current): cudaMemcpyAsync device-to-device when the devices are the
 * same, cudaMemcpyPeerAsync otherwise (direct only when peer access is enabled).
 */
gc_status gc_p2p_copy(void* dst, int dst_device, const void* src, int src_device, size_t bytes,
                      int issue_device, void* stream);

/*
 * Queues a copy of `bytes` by a kernel on `stream` (of issue_device, made current) that reads src
 * and writes dst through the peer mapping (peer access must be enabled from issue_device to the
 * other device): for small copies, where a kernel can finish sooner than a copy engine.
 */
gc_status gc_p2p_kernel_copy(void* dst, const void* src, size_t bytes, int issue_device,
                             void* stream);

/*
 * gc_p2p_copy (gc_p2p_kernel_copy between two devices when bytes <= kernel_max_bytes), then
 * waits for `stream` as `wait_mode` says (`event`: an event of issue_device, used by
 * GC_P2P_WAIT_SPIN_EVENT). One call from Java for a synchronous copy.
 */
gc_status gc_p2p_copy_wait(void* dst, int dst_device, const void* src, int src_device,
                           size_t bytes, int issue_device, void* stream, void* event,
                           int wait_mode, size_t kernel_max_bytes);

/* Waits for all work queued on `stream` (of `device`), as `wait_mode` says. */
gc_status gc_p2p_wait(int device, void* stream, void* event, int wait_mode);

/*
 * Queues a copy from src (src_device) to dst (dst_device) through page-locked host buffers:
 * chunk i goes down to buffers[i % nbuf] on src_stream and up from it on dst_stream, so the
 * device-to-host copy of chunk i+1 overlaps the host-to-device copy of chunk i. Events order the
 * two streams (no host waits): d2h_events[b] (of src_device) mark a buffer full, h2d_events[b]
 * (of dst_device) mark it drained; a buffer is refilled only after its last drain, also across
 * calls, so calls may follow one another without waiting.
 *
 * after_stream (NULL: none), a stream of after_device (src_device or dst_device): the copy starts
 * after the work queued on it so far (after_event, an event of after_device, is recorded there),
 * and work queued on it later starts after the copy (done_event, an event of dst_device).
 */
gc_status gc_p2p_staged(void* dst, int dst_device, void* dst_stream, const void* src,
                        int src_device, void* src_stream, size_t bytes, void* const* buffers,
                        void* const* d2h_events, void* const* h2d_events, int nbuf,
                        size_t chunk_bytes, int after_device, void* after_stream,
                        void* after_event, void* done_event);

#ifdef __cplusplus
}
#endif

#endif /* GPUCORE_P2P_H */
