/* out[j] = reduction over r of in[r, j] when the kept elements j are contiguous and the
 * reduced ones r strided (a sum over the rows of a C-contiguous matrix): a work-item
 * owns ${per_item} adjacent columns and adds one row of ${lanes} vectors per step, so
 * every row is read in contiguous runs (CPU devices run a work-item's loop to its end
 * before the next work-item starts). */
KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off,
                    GLOBAL_MEM char *in_base, ga_ssize in_off,
                    ga_ssize K, ga_ssize R, ga_ssize rs)
{
    GLOBAL_MEM ga_float *out = (GLOBAL_MEM ga_float *)(out_base + out_off);
    const GLOBAL_MEM ga_float *in = (const GLOBAL_MEM ga_float *)(in_base + in_off);
    const ga_ssize j0 = GLOBAL_ID_0 * ${per_item};
    if (j0 + ${per_item} <= K) {
${declare}
        for (ga_ssize r = 0; r < R; r++) {
            const GLOBAL_MEM ga_float *row = in + r * rs + j0;
${accumulate}
        }
${store}
    } else {
        for (ga_ssize j = j0; j < K; j++) {
            ga_float acc = ${identity};
            for (ga_ssize r = 0; r < R; r++)
                acc = acc ${operator} in[r * rs + j];
            out[j] = acc;
        }
    }
}
