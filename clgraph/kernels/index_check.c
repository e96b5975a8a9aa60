/* flag[0] = 1 when an element of the contiguous index array ix lies outside the axis
 * of the given length that it indexes: outside [-length, length) for signed indices, at
 * or past length for unsigned ones. One work-item per element; the flag is only ever
 * set to 1, so racing writes agree, and several arrays may share it. */
KERNEL void ${name}(GLOBAL_MEM char *flag_base, ga_ssize flag_off,
                    GLOBAL_MEM char *ix_base, ga_ssize ix_off, ga_ssize n, ga_ssize length)
{
    GLOBAL_MEM ga_int *flag = (GLOBAL_MEM ga_int *)(flag_base + flag_off);
    const GLOBAL_MEM ${index_type} *ix = (const GLOBAL_MEM ${index_type} *)(ix_base + ix_off);
    for (ga_ssize e = GLOBAL_ID_0; e < n; e += LDIM_0 * GDIM_0) {
        const ${value_type} v = ix[e];
        if (${out_of_bounds}) flag[0] = 1;
    }
}
