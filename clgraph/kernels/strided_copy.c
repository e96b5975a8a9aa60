/* dst[i] = src[i-th element, in C order, of a strided view], converted to dst's type.
 * Dimensions and byte strides of the source come as arguments; the runtime renders one
 * variant per (number of dimensions, source type, destination type). */
KERNEL void ${name}(GLOBAL_MEM char *dst_base, ga_ssize dst_off,
                    GLOBAL_MEM char *src_base, ga_ssize src_off,
                    ga_ssize n${dim_params})
{
    GLOBAL_MEM ${dst_type} *dst = (GLOBAL_MEM ${dst_type} *)(dst_base + dst_off);
    const GLOBAL_MEM char *src = src_base + src_off;
    for (ga_ssize i = GLOBAL_ID_0; i < n; i += LDIM_0 * GDIM_0) {
        ga_ssize rest = i, at = 0;
${index_lines}
        ${store};
    }
}
