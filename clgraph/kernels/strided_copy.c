/* dst[i] = src[i-th element, in C order, of a strided view], converted to dst's type.
 * Dimensions and byte strides of the source come as arguments; the runtime renders one
 * variant per (number of dimensions, source type, destination type, run, whether the
 * innermost dimension is contiguous).
 *
 * A work-item copies a run of up to ${run} consecutive elements along the innermost
 * dimension: the outer coordinates (integer divisions) are found once per run, and on
 * CPUs, where runs are long, a whole run of a contiguous source compiles to vector
 * moves. GPUs take runs of 1: neighbouring work-items then touch neighbouring elements. */
KERNEL void ${name}(GLOBAL_MEM char *dst_base, ga_ssize dst_off,
                    GLOBAL_MEM char *src_base, ga_ssize src_off,
                    ga_ssize n${dim_params})
{
    GLOBAL_MEM ${dst_type} *dst = (GLOBAL_MEM ${dst_type} *)(dst_base + dst_off);
    const GLOBAL_MEM char *src = src_base + src_off;
    const ga_ssize inner = ${inner_dim}, per_row = (inner + ${run} - 1) / ${run};
    const ga_ssize runs = inner ? n / inner * per_row : 0;
    for (ga_ssize r = GLOBAL_ID_0; r < runs; r += LDIM_0 * GDIM_0) {
        const ga_ssize row = r / per_row, j0 = r % per_row * ${run};
        ga_ssize rest = row, at = j0 * ${inner_stride};
${index_lines}
        const ga_ssize i0 = row * inner + j0;
        if (j0 + ${run} <= inner) {
            for (int e = 0; e < ${run}; ++e) {
                const ga_ssize i = i0 + e;
                ${store};
                at += ${inner_stride};
            }
        } else {
            for (ga_ssize i = i0; i < i0 + inner - j0; ++i) {
                ${store};
                at += ${inner_stride};
            }
        }
    }
}
