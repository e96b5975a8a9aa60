/* cluda.h, OpenCL C dialect.
 *
 * Kernels are written once against these names and build as OpenCL C or CUDA C.
 * kernels_cu/cluda.h defines the same names: change both together and bump
 * CLUDA_HEADER_VERSION, which is part of every kernel cache key.
 */
#ifndef CLUDA_H
#define CLUDA_H

#define CLUDA_HEADER_VERSION 2
#define DIALECT_OPENCL 1

/* ---- Optional device features, enabled only where the device has them ---- */

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define GA_HAS_FP64 1
#endif

#ifdef cl_khr_fp16
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#define GA_HAS_FP16 1
#endif

#ifdef cl_khr_int64_base_atomics
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#define GA_HAS_INT64_ATOMICS 1
#endif

/* ---- Types: fixed widths, whatever the device's size_t ---- */

typedef uchar ga_bool;
typedef char ga_byte; /* char is signed in OpenCL C */
typedef uchar ga_ubyte;
typedef short ga_short;
typedef ushort ga_ushort;
typedef int ga_int;
typedef uint ga_uint;
typedef long ga_long;
typedef ulong ga_ulong;
typedef half ga_half; /* storage only without cl_khr_fp16: use ga_load_half/ga_store_half */
typedef float ga_float;
#ifdef GA_HAS_FP64
typedef double ga_double;
#endif
typedef ulong ga_size;
typedef long ga_ssize;

/* ---- Qualifiers ---- */

#define KERNEL __kernel
/* static: a bare C99 inline function has no out-of-line definition, so it fails to
   link on compilers that decline to inline it. */
#define DEVICE_FUNC static
#define GLOBAL_MEM __global
#define LOCAL_MEM __local
#define LOCAL_MEM_ARG __local
#define CONSTANT_MEM __constant
#define INLINE inline
#define RESTRICT restrict

/* ---- Dynamic local memory: the host sets its byte size as a local-memory argument.
        Write DYN_LOCAL_PARAM(name) right after the last parameter, without a comma. ---- */

#define DYN_LOCAL_PARAM(name) , __local char *name
#define DYN_LOCAL_DECL(name)

/* ---- Ids and synchronisation, all ga_ssize so index arithmetic has one type ---- */

#define LID_0 ((ga_ssize)get_local_id(0))
#define LID_1 ((ga_ssize)get_local_id(1))
#define LID_2 ((ga_ssize)get_local_id(2))
#define GID_0 ((ga_ssize)get_group_id(0))
#define GID_1 ((ga_ssize)get_group_id(1))
#define GID_2 ((ga_ssize)get_group_id(2))
#define LDIM_0 ((ga_ssize)get_local_size(0))
#define LDIM_1 ((ga_ssize)get_local_size(1))
#define LDIM_2 ((ga_ssize)get_local_size(2))
#define GDIM_0 ((ga_ssize)get_num_groups(0))
#define GDIM_1 ((ga_ssize)get_num_groups(1))
#define GDIM_2 ((ga_ssize)get_num_groups(2))
/* Built from the group and local ids, not get_global_id, to match CUDA exactly. */
#define GLOBAL_ID_0 (GID_0 * LDIM_0 + LID_0)
#define GLOBAL_ID_1 (GID_1 * LDIM_1 + LID_1)
#define GLOBAL_ID_2 (GID_2 * LDIM_2 + LID_2)

#define LOCAL_BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
/* OpenCL promises no lock-step execution inside a work-group. */
#define WARP_SIZE 1

/* ---- Half-precision storage; vload_half/vstore_half need no cl_khr_fp16 ---- */

#define ga_load_half(p) vload_half(0, (p))
/* vstore_half_rte takes a float or (with fp64) a double, rounding once either way. */
#define ga_store_half(v, p) vstore_half_rte((v), 0, (p))

/* ---- Constants: NAN, INFINITY and M_PI_F are built in; M_PI needs fp64 ---- */

#ifndef M_PI
#define M_PI M_PI_F
#endif

/* ---- Atomics on global memory, each returning the old value ---- */

DEVICE_FUNC INLINE ga_int ga_atomic_add_int(GLOBAL_MEM ga_int *p, ga_int v) { return atomic_add(p, v); }
DEVICE_FUNC INLINE ga_int ga_atomic_max_int(GLOBAL_MEM ga_int *p, ga_int v) { return atomic_max(p, v); }
DEVICE_FUNC INLINE ga_int ga_atomic_min_int(GLOBAL_MEM ga_int *p, ga_int v) { return atomic_min(p, v); }

/* OpenCL 1.x has no floating-point atomics: retry a compare-and-swap on the value's
   bit pattern until no other work-item wrote in between. */
#define GA_CAS_ADD(BITS, cmpxchg, as_value, as_bits)                     \
    GLOBAL_MEM BITS *bits = (GLOBAL_MEM BITS *)p;                        \
    BITS old = *bits, assumed;                                           \
    do {                                                                 \
        assumed = old;                                                   \
        old = cmpxchg(bits, assumed, as_bits(as_value(assumed) + v));    \
    } while (old != assumed);                                            \
    return as_value(old);

DEVICE_FUNC INLINE ga_float ga_atomic_add_float(GLOBAL_MEM ga_float *p, ga_float v)
{
    GA_CAS_ADD(ga_int, atomic_cmpxchg, as_float, as_int)
}

#ifdef GA_HAS_INT64_ATOMICS
DEVICE_FUNC INLINE ga_long ga_atomic_add_long(GLOBAL_MEM ga_long *p, ga_long v) { return atom_add(p, v); }

#ifdef GA_HAS_FP64
DEVICE_FUNC INLINE ga_double ga_atomic_add_double(GLOBAL_MEM ga_double *p, ga_double v)
{
    GA_CAS_ADD(ga_long, atom_cmpxchg, as_double, as_long)
}
#endif
#endif

#undef GA_CAS_ADD

#endif /* CLUDA_H */
