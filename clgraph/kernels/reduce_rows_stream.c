/* partial[c, j] = reduction over rows r of chunk c of in[r, j], for K contiguous
 * columns j: a work-item streams its rows in memory order, adding each into its own
 * partial row (which stays in cache); the partial rows are reduced afterwards. */
KERNEL void ${name}(GLOBAL_MEM char *partial_base, ga_ssize partial_off,
                    GLOBAL_MEM char *in_base, ga_ssize in_off,
                    ga_ssize K, ga_ssize R, ga_ssize rs, ga_ssize rows_per_chunk)
{
    const ga_ssize c = GLOBAL_ID_0;
    GLOBAL_MEM ga_float *p = (GLOBAL_MEM ga_float *)(partial_base + partial_off) + c * K;
    const GLOBAL_MEM ga_float *in = (const GLOBAL_MEM ga_float *)(in_base + in_off);
    const ga_ssize first = c * rows_per_chunk;
    const ga_ssize last = first + rows_per_chunk < R ? first + rows_per_chunk : R;
    const ga_ssize vectors = K / ${width};
    for (ga_ssize v = 0; v < vectors; v++)
        vstore${width}((float${width})(${identity}), v, p);
    for (ga_ssize j = vectors * ${width}; j < K; j++)
        p[j] = ${identity};
    ga_ssize r = first;
    /* four rows at a time: the partial row is read and written once per four */
    for (; r + 4 <= last; r += 4) {
        const GLOBAL_MEM ga_float *r0 = in + r * rs, *r1 = r0 + rs, *r2 = r1 + rs, *r3 = r2 + rs;
        for (ga_ssize v = 0; v < vectors; v++)
            vstore${width}(vload${width}(v, p) ${operator} ((vload${width}(v, r0) ${operator} vload${width}(v, r1))
                           ${operator} (vload${width}(v, r2) ${operator} vload${width}(v, r3))), v, p);
        for (ga_ssize j = vectors * ${width}; j < K; j++)
            p[j] = p[j] ${operator} ((r0[j] ${operator} r1[j]) ${operator} (r2[j] ${operator} r3[j]));
    }
    for (; r < last; r++) {
        const GLOBAL_MEM ga_float *row = in + r * rs;
        for (ga_ssize v = 0; v < vectors; v++)
            vstore${width}(vload${width}(v, p) ${operator} vload${width}(v, row), v, p);
        for (ga_ssize j = vectors * ${width}; j < K; j++)
            p[j] = p[j] ${operator} row[j];
    }
}
