/* x[at] = y[y_at], or x[at] incremented by it, over a region visited in C order:
 * region elements address elements of x as in gather.c (with the same chunks of rows
 * per work-item), and y broadcasts over the region (zero strides). The update is a
 * plain store where no two region elements share an element of x (basic indexing, or
 * set, where any one of the values may win), an atomic add where repeated indices must
 * accumulate, or base[i] + y where base holds the region read before any write
 * (numpy's x[key] += y, one increment per element). */
${requires}
KERNEL void ${name}(GLOBAL_MEM char *x_base, ga_ssize x_off,
                    GLOBAL_MEM char *y_base, ga_ssize y_off${index_params},
                    ga_ssize rows, ga_ssize chunk${dim_params})
{
    GLOBAL_MEM ${type} *x = (GLOBAL_MEM ${type} *)(x_base + x_off);
    const GLOBAL_MEM ${type} *y = (const GLOBAL_MEM ${type} *)(y_base + y_off);
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
            const ga_ssize y_at = ${y_at};
            ${update}
        }
    }
}
