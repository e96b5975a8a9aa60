/* cluda.h, CUDA C dialect.
 *
 * Kernels are written once against these names and build as OpenCL C or CUDA C.
 * kernels_cl/cluda.h defines the same names: change both together and bump
 * CLUDA_HEADER_VERSION, which is part of every kernel cache key.
 */
#ifndef CLUDA_H
#define CLUDA_H

#define CLUDA_HEADER_VERSION 2
#define DIALECT_CUDA 1

#include <cuda_fp16.h>

/* ---- Optional device features: every supported CUDA target has them ---- */

#define GA_HAS_FP64 1
#define GA_HAS_FP16 1
#define GA_HAS_INT64_ATOMICS 1

/* ---- Types: the same widths as the OpenCL dialect ---- */

typedef unsigned char ga_bool;
typedef signed char ga_byte;
typedef unsigned char ga_ubyte;
typedef short ga_short;
typedef unsigned short ga_ushort;
typedef int ga_int;
typedef unsigned int ga_uint;
typedef long long ga_long;
typedef unsigned long long ga_ulong;
typedef __half ga_half;
typedef float ga_float;
typedef double ga_double;
typedef unsigned long long ga_size;
typedef long long ga_ssize;

/* ---- Qualifiers ---- */

/* extern "C": the host looks kernels up by their unmangled names. */
#define KERNEL extern "C" __global__
#define DEVICE_FUNC __device__
#define GLOBAL_MEM
#define LOCAL_MEM __shared__
#define LOCAL_MEM_ARG
#define CONSTANT_MEM __constant__
#define INLINE __forceinline__
#define RESTRICT __restrict__

/* ---- Dynamic local memory: the host sets its byte size as the shared-memory launch
        size. Write DYN_LOCAL_PARAM(name) right after the last parameter, without a
        comma. Aligned so it can be cast to any scalar type. ---- */

#define DYN_LOCAL_PARAM(name)
#define DYN_LOCAL_DECL(name) extern __shared__ __align__(16) char name[];

/* ---- Ids and synchronisation, all ga_ssize so index arithmetic has one type ---- */

#define LID_0 ((ga_ssize)threadIdx.x)
#define LID_1 ((ga_ssize)threadIdx.y)
#define LID_2 ((ga_ssize)threadIdx.z)
#define GID_0 ((ga_ssize)blockIdx.x)
#define GID_1 ((ga_ssize)blockIdx.y)
#define GID_2 ((ga_ssize)blockIdx.z)
#define LDIM_0 ((ga_ssize)blockDim.x)
#define LDIM_1 ((ga_ssize)blockDim.y)
#define LDIM_2 ((ga_ssize)blockDim.z)
#define GDIM_0 ((ga_ssize)gridDim.x)
#define GDIM_1 ((ga_ssize)gridDim.y)
#define GDIM_2 ((ga_ssize)gridDim.z)
#define GLOBAL_ID_0 (GID_0 * LDIM_0 + LID_0)
#define GLOBAL_ID_1 (GID_1 * LDIM_1 + LID_1)
#define GLOBAL_ID_2 (GID_2 * LDIM_2 + LID_2)

#define LOCAL_BARRIER() __syncthreads()
/* A compile-time constant, unlike the warpSize variable. */
#define WARP_SIZE 32

/* ---- Half-precision storage ---- */

#define ga_load_half(p) __half2float(*(p))
/* Overloaded like OpenCL's vstore_half_rte: a double is rounded to half once, not
   through float. */
DEVICE_FUNC INLINE void ga_store_half(float v, ga_half *p) { *p = __float2half_rn(v); }
DEVICE_FUNC INLINE void ga_store_half(double v, ga_half *p) { *p = __double2half(v); }

/* ---- Constants: the host math headers usually provide them; these are fallbacks ---- */

#ifndef NAN
#define NAN __int_as_float(0x7fc00000)
#endif
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#define M_PI_F 3.14159265358979323846f

/* ---- Atomics on global memory, each returning the old value ---- */

DEVICE_FUNC INLINE ga_int ga_atomic_add_int(GLOBAL_MEM ga_int *p, ga_int v) { return atomicAdd(p, v); }
DEVICE_FUNC INLINE ga_int ga_atomic_max_int(GLOBAL_MEM ga_int *p, ga_int v) { return atomicMax(p, v); }
DEVICE_FUNC INLINE ga_int ga_atomic_min_int(GLOBAL_MEM ga_int *p, ga_int v) { return atomicMin(p, v); }
DEVICE_FUNC INLINE ga_float ga_atomic_add_float(GLOBAL_MEM ga_float *p, ga_float v) { return atomicAdd(p, v); }

DEVICE_FUNC INLINE ga_long ga_atomic_add_long(GLOBAL_MEM ga_long *p, ga_long v)
{
    /* There is no signed 64-bit atomicAdd; in two's complement the unsigned add is the same. */
    return (ga_long)atomicAdd((unsigned long long *)p, (unsigned long long)v);
}

DEVICE_FUNC INLINE ga_double ga_atomic_add_double(GLOBAL_MEM ga_double *p, ga_double v)
{
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 600
    return atomicAdd(p, v);
#else
    /* No native double add before sm_60: retry a compare-and-swap on the bit pattern. */
    unsigned long long *bits = (unsigned long long *)p;
    unsigned long long old = *bits, assumed;
    do {
        assumed = old;
        old = atomicCAS(bits, assumed, __double_as_longlong(__longlong_as_double(assumed) + v));
    } while (old != assumed);
    return __longlong_as_double(old);
#endif
}

#endif /* CLUDA_H */
