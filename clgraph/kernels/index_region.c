/* A walk over a region visited in C order, for gather (out[i] = x[at]) and scatter
 * (x[at] = y[y_at], or x[at] incremented by it): region element i addresses the
 * element `at` of x (each axis of x follows a region dim or takes its coordinate from
 * an index array broadcast over the region; a negative index counts from the end of its
 * axis, and every index was checked to lie in bounds before the launch); y broadcasts
 * over the region (zero strides). A work-item takes `chunk` consecutive elements of
 * one row (the last region dim), so the division of its position into coordinates is
 * paid once per chunk: the host picks long chunks on CPUs and chunks of 1 on GPUs,
 * where neighbouring work-items then touch neighbouring elements. Copies move elements
 * as unsigned integers of their size, so one kernel serves every dtype of that size.
 * A scatter's update is a plain store where no two region elements share an element of
 * x (basic indexing, or set, where any one of the values may win), an atomic add where
 * repeated indices must accumulate, or base[i] + y where base holds the region read
 * before any write (numpy's x[key] += y, one increment per element). */
${requires}
KERNEL void ${name}(GLOBAL_MEM char *${written}_base, ga_ssize ${written}_off,
                    GLOBAL_MEM char *${read}_base, ga_ssize ${read}_off${index_params},
                    ga_ssize rows, ga_ssize chunk${dim_params})
{
    GLOBAL_MEM ${type} *${written} = (GLOBAL_MEM ${type} *)(${written}_base + ${written}_off);
    const GLOBAL_MEM ${type} *${read} = (const GLOBAL_MEM ${type} *)(${read}_base + ${read}_off);
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
            ${body}
        }
    }
}
