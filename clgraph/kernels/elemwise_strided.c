/* Elementwise with strided and broadcast inputs: element i (C order) of the outputs,
 * which are C-contiguous, from the inputs' elements at their own element strides
 * (0 along broadcast axes). ${ndim} dimensions after collapsing contiguous ones. */
KERNEL void ${name}(${params}, ga_ssize n${dim_params})
{
${pointers}
    for (ga_ssize i = GLOBAL_ID_0; i < n; i += LDIM_0 * GDIM_0) {
        ga_ssize rest = i${offsets};
${index_lines}
${body}
    }
}
