/* Kernels that exercise every name of cluda.h, so a dialect header that drifts from
 * its twin fails here first. The tests run them on OpenCL and compile them for CUDA;
 * `clgraph devices --check` runs cluda_saxpy on every device.
 *
 * Buffers follow the kernel ABI: (char *base, byte offset), retyped inside.
 */

/* Compile-time layout checks: a wrong typedef makes an array of negative size. */
#define CLUDA_CHECK_SIZE(type, bytes) typedef char cluda_check_size_##type[sizeof(type) == (bytes) ? 1 : -1]
CLUDA_CHECK_SIZE(ga_bool, 1);
CLUDA_CHECK_SIZE(ga_byte, 1);
CLUDA_CHECK_SIZE(ga_ubyte, 1);
CLUDA_CHECK_SIZE(ga_short, 2);
CLUDA_CHECK_SIZE(ga_ushort, 2);
CLUDA_CHECK_SIZE(ga_int, 4);
CLUDA_CHECK_SIZE(ga_uint, 4);
CLUDA_CHECK_SIZE(ga_long, 8);
CLUDA_CHECK_SIZE(ga_ulong, 8);
CLUDA_CHECK_SIZE(ga_half, 2);
CLUDA_CHECK_SIZE(ga_float, 4);
CLUDA_CHECK_SIZE(ga_size, 8);
CLUDA_CHECK_SIZE(ga_ssize, 8);
typedef char cluda_check_byte_is_signed[(ga_byte)-1 < 0 ? 1 : -1];
typedef char cluda_check_size_is_unsigned[(ga_size)-1 > 0 ? 1 : -1];
#ifdef GA_HAS_FP64
CLUDA_CHECK_SIZE(ga_double, 8);
#endif

/* Host-side mirror: numpy dtype [sum f4, count i4, max_index i4, min_index i4,
   warp_size i4, specials 4 x f4]; the host presets max_index and min_index. */
typedef struct {
    ga_float sum;
    ga_int count;
    ga_int max_index;
    ga_int min_index;
    ga_int warp_size;
    ga_float specials[4]; /* NAN, INFINITY, M_PI, M_PI_F */
} cluda_check_stats;

CONSTANT_MEM ga_float cluda_check_pi[2] = {(ga_float)M_PI, M_PI_F};

/* Tree sum over a one-dimensional work-group whose size is a power of two; every
   work-item gets the total. */
DEVICE_FUNC INLINE ga_float cluda_group_sum(LOCAL_MEM_ARG ga_float *scratch, ga_float v)
{
    const ga_ssize lid = LID_0;
    scratch[lid] = v;
    LOCAL_BARRIER();
    for (ga_ssize stride = LDIM_0 / 2; stride > 0; stride /= 2) {
        if (lid < stride)
            scratch[lid] += scratch[lid + stride];
        LOCAL_BARRIER();
    }
    return scratch[0];
}

/* Over values[0:n] in a 1-d launch: group_sums[g] = sum of group g's values (through
   dynamic local memory, LDIM_0 floats); halves[i] = values[i] rounded to half, and
   values[i] becomes that half read back; stats gathers the global atomics. */
KERNEL void cluda_check(GLOBAL_MEM char *group_sums_base, ga_ssize group_sums_off,
                        GLOBAL_MEM char *halves_base, ga_ssize halves_off,
                        GLOBAL_MEM char *stats_base, ga_ssize stats_off,
                        GLOBAL_MEM char *values_base, ga_ssize values_off,
                        ga_ssize n DYN_LOCAL_PARAM(scratch))
{
    DYN_LOCAL_DECL(scratch)
    GLOBAL_MEM ga_float *group_sums = (GLOBAL_MEM ga_float *)(group_sums_base + group_sums_off);
    GLOBAL_MEM ga_half *halves = (GLOBAL_MEM ga_half *)(halves_base + halves_off);
    GLOBAL_MEM cluda_check_stats *stats = (GLOBAL_MEM cluda_check_stats *)(stats_base + stats_off);
    GLOBAL_MEM ga_float *values = (GLOBAL_MEM ga_float *)(values_base + values_off);
    const ga_ssize i = GLOBAL_ID_0;
    const ga_float v = i < n ? values[i] : 0.0f;

    const ga_float total = cluda_group_sum((LOCAL_MEM_ARG ga_float *)scratch, v);
    if (LID_0 == 0)
        group_sums[GID_0] = total;

    if (i < n) {
        ga_store_half(v, halves + i);
        values[i] = ga_load_half(halves + i);
        ga_atomic_add_float(&stats->sum, v);
        ga_atomic_add_int(&stats->count, 1);
        ga_atomic_max_int(&stats->max_index, (ga_int)i);
        ga_atomic_min_int(&stats->min_index, (ga_int)i);
    }
    if (i == 0) {
        stats->warp_size = WARP_SIZE;
        stats->specials[0] = NAN;
        stats->specials[1] = INFINITY;
        stats->specials[2] = cluda_check_pi[0];
        stats->specials[3] = cluda_check_pi[1];
    }
}

#define CLUDA_CHECK_MAX_GROUP 64

/* In a 3-d launch of at most CLUDA_CHECK_MAX_GROUP work-items per group, each
   work-item writes 16 ga_ssize at its row-major global index: its LID, GID, LDIM,
   GDIM and GLOBAL_ID (x, y, z each), then the value its mirror work-item (local
   index group_size - 1 - own) put in static local memory. */
KERNEL void cluda_check_ids(GLOBAL_MEM char *ids_base, ga_ssize ids_off)
{
    LOCAL_MEM ga_ssize mirror[CLUDA_CHECK_MAX_GROUP];
    const ga_ssize group_size = LDIM_0 * LDIM_1 * LDIM_2;
    const ga_ssize local_index = LID_0 + LDIM_0 * (LID_1 + LDIM_1 * LID_2);
    const ga_ssize global_index =
        GLOBAL_ID_0 + LDIM_0 * GDIM_0 * (GLOBAL_ID_1 + LDIM_1 * GDIM_1 * GLOBAL_ID_2);
    GLOBAL_MEM ga_ssize *ids = (GLOBAL_MEM ga_ssize *)(ids_base + ids_off) + 16 * global_index;

    mirror[local_index] = local_index;
    LOCAL_BARRIER();
    const ga_ssize record[16] = {LID_0, LID_1, LID_2, GID_0, GID_1, GID_2,
                                 LDIM_0, LDIM_1, LDIM_2, GDIM_0, GDIM_1, GDIM_2,
                                 GLOBAL_ID_0, GLOBAL_ID_1, GLOBAL_ID_2,
                                 mirror[group_size - 1 - local_index]};
    for (int k = 0; k < 16; ++k)
        ids[k] = record[k];
}

#if defined(GA_HAS_FP64) && defined(GA_HAS_INT64_ATOMICS)
/* totals = {ga_long, ga_double}: 2**32 added once per element (only 64 bits hold it)
   and the sum of x[0:n]. */
KERNEL void cluda_check_wide(GLOBAL_MEM char *totals_base, ga_ssize totals_off,
                             GLOBAL_MEM char *x_base, ga_ssize x_off, ga_ssize n)
{
    GLOBAL_MEM ga_long *wide_count = (GLOBAL_MEM ga_long *)(totals_base + totals_off);
    GLOBAL_MEM ga_double *sum = (GLOBAL_MEM ga_double *)(wide_count + 1);
    const GLOBAL_MEM ga_double *x = (const GLOBAL_MEM ga_double *)(x_base + x_off);
    for (ga_ssize i = GLOBAL_ID_0; i < n; i += LDIM_0 * GDIM_0) {
        ga_atomic_add_long(wide_count, (ga_long)1 << 32);
        ga_atomic_add_double(sum, x[i]);
    }
}
#endif

/* y = a * x + y over n floats, any launch size (grid-stride loop). */
KERNEL void cluda_saxpy(GLOBAL_MEM char *y_base, ga_ssize y_off,
                        GLOBAL_MEM char *x_base, ga_ssize x_off, ga_float a, ga_ssize n)
{
    GLOBAL_MEM ga_float *RESTRICT y = (GLOBAL_MEM ga_float *)(y_base + y_off);
    const GLOBAL_MEM ga_float *RESTRICT x = (const GLOBAL_MEM ga_float *)(x_base + x_off);
    for (ga_ssize i = GLOBAL_ID_0; i < n; i += LDIM_0 * GDIM_0)
        y[i] = a * x[i] + y[i];
}
