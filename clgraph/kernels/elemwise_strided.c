/* Elementwise with strided and broadcast inputs: element i (C order) of the outputs,
 * which are C-contiguous, from the inputs' elements at their own element strides
 * (0 along broadcast axes). ${ndim} dimensions after collapsing contiguous ones.
 *
 * A work-item computes a run of up to ${run} consecutive elements along the innermost
 * dimension: the outer coordinates (integer divisions) are found once per run, and on
 * CPUs, where runs are long and the innermost strides of the inputs are constants of
 * the kernel (1 or 0) where they can be, a whole run compiles to vector code. GPUs take
 * runs of 1: neighbouring work-items then touch neighbouring elements. */
KERNEL void ${name}(${params}, ga_ssize n${dim_params})
{
${pointers}
    const ga_ssize inner = dim${last}, per_row = (inner + ${run} - 1) / ${run};
    const ga_ssize runs = n / inner * per_row;
    for (ga_ssize r = GLOBAL_ID_0; r < runs; r += LDIM_0 * GDIM_0) {
        const ga_ssize j0 = r % per_row * ${run};
        ga_ssize rest = r / per_row${offsets};
        const ga_ssize i0 = rest * inner + j0;
${index_lines}
        if (j0 + ${run} <= inner) {
            for (int e = 0; e < ${run}; ++e) {
                const ga_ssize i = i0 + e;
${body}
${advance}
            }
        } else {
            for (ga_ssize i = i0; i < i0 + inner - j0; ++i) {
${body}
${advance}
            }
        }
    }
}
