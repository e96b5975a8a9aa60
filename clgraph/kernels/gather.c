/* out[i] = x[at] over a region visited in C order: out holds the region
 * C-contiguously and `at` is the element of x that region element i addresses (each
 * axis of x follows a region dim or takes its coordinate from an index array broadcast
 * over the region; a negative index counts from the end of its axis, and every index
 * was checked to lie in bounds before the launch). A work-item takes `chunk`
 * consecutive elements of one row (the last region dim), so the division of its
 * position into coordinates is paid once per chunk: the host picks long chunks on CPUs
 * and chunks of 1 on GPUs, where neighbouring work-items then touch neighbouring
 * elements. Elements are copied as unsigned integers of their size, so one kernel
 * serves every dtype of that size. */
KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off,
                    GLOBAL_MEM char *x_base, ga_ssize x_off${index_params},
                    ga_ssize rows, ga_ssize chunk${dim_params})
{
    GLOBAL_MEM ${type} *out = (GLOBAL_MEM ${type} *)(out_base + out_off);
    const GLOBAL_MEM ${type} *x = (const GLOBAL_MEM ${type} *)(x_base + x_off);
${index_pointers}
    const ga_ssize chunks = (${row_length} + chunk - 1) / chunk;
    for (ga_ssize w = GLOBAL_ID_0; w < rows * chunks; w += LDIM_0 * GDIM_0) {
        const ga_ssize row = w / chunks;
        const ga_ssize first = (w - row * chunks) * chunk;
        const ga_ssize last = first + chunk < ${row_length} ? first + chunk : ${row_length};
${row_coordinates}
        for (ga_ssize ${column} = first; ${column} < last; ${column}++) {
            const ga_ssize i = row * ${row_length} + ${column};
${locate}
            out[i] = x[at];
        }
    }
}
