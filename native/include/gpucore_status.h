/*
 * gc_status, the return type of every gpucore C function (see gpucore.h): 0 on success, a
 * positive CUDA runtime error code, or a negative gpucore code. Included by each public header
 * so that any of them can be used on its own.
 */
#ifndef GPUCORE_STATUS_H
#define GPUCORE_STATUS_H

typedef int gc_status;

#endif /* GPUCORE_STATUS_H */
