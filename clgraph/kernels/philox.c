/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", 2011):
 * a counter-based generator, so element i of a draw is a pure function of (key,
 * base + i) and any number of work-items fill an array in any order with the numbers
 * the host reference gives. Element i uses the 4 words of counter (base + i, 0), split
 * in 32-bit halves; ${value} turns them (w.v[0..3]) into one ${out_type}.
 * A state is the uint32 vector [key0, key1, counter_lo, counter_hi]. */

typedef struct { ga_uint v[4]; } ${name}_words;

DEVICE_FUNC INLINE ga_uint ${name}_mulhi(ga_uint a, ga_uint b)
{
    return (ga_uint)(((ga_ulong)a * (ga_ulong)b) >> 32);
}

DEVICE_FUNC ${name}_words ${name}_philox(ga_uint c0, ga_uint c1, ga_uint c2, ga_uint c3,
                                         ga_uint k0, ga_uint k1)
{
    for (int step = 0; step < 10; ++step) {
        const ga_uint hi0 = ${name}_mulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        const ga_uint hi1 = ${name}_mulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;     /* the Weyl sequence bumping the key between rounds */
        k1 += 0xBB67AE85u;
    }
    ${name}_words w;
    w.v[0] = c0; w.v[1] = c1; w.v[2] = c2; w.v[3] = c3;
    return w;
}

DEVICE_FUNC INLINE ${out_type} ${name}_element(ga_ulong counter, ga_uint key0, ga_uint key1)
{
    const ${name}_words w = ${name}_philox((ga_uint)counter, (ga_uint)(counter >> 32), 0u, 0u,
                                           key0, key1);
    return ${value};
}

/* The state in kernel arguments (a state on the host). */
KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off, ga_ssize n,
                    ga_uint key0, ga_uint key1, ga_ulong base)
{
    GLOBAL_MEM ${out_type} *out = (GLOBAL_MEM ${out_type} *)(out_base + out_off);
    const ga_ssize i = GLOBAL_ID_0;
    if (i < n)
        out[i] = ${name}_element(base + (ga_ulong)i, key0, key1);
}

/* The state read from device memory (a state on the device: no read-back). */
KERNEL void ${name}_from_state(GLOBAL_MEM char *out_base, ga_ssize out_off, ga_ssize n,
                               GLOBAL_MEM char *state_base, ga_ssize state_off)
{
    GLOBAL_MEM ${out_type} *out = (GLOBAL_MEM ${out_type} *)(out_base + out_off);
    const GLOBAL_MEM ga_uint *state = (const GLOBAL_MEM ga_uint *)(state_base + state_off);
    const ga_ssize i = GLOBAL_ID_0;
    if (i < n) {
        const ga_ulong base = ((ga_ulong)state[3] << 32) | (ga_ulong)state[2];
        out[i] = ${name}_element(base + (ga_ulong)i, state[0], state[1]);
    }
}

/* The state after a draw of n elements: its counter moved past them (one work-item). */
KERNEL void ${name}_advance(GLOBAL_MEM char *new_base, ga_ssize new_off,
                            GLOBAL_MEM char *state_base, ga_ssize state_off, ga_ulong n)
{
    GLOBAL_MEM ga_uint *advanced = (GLOBAL_MEM ga_uint *)(new_base + new_off);
    const GLOBAL_MEM ga_uint *state = (const GLOBAL_MEM ga_uint *)(state_base + state_off);
    if (GLOBAL_ID_0 == 0) {
        const ga_ulong counter = (((ga_ulong)state[3] << 32) | (ga_ulong)state[2]) + n;
        advanced[0] = state[0];
        advanced[1] = state[1];
        advanced[2] = (ga_uint)counter;
        advanced[3] = (ga_uint)(counter >> 32);
    }
}
