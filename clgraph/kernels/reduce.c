/* out[j * chunks + c] = reduction (${combine}) over the c-th chunk of r of in[j, r]:
 * j walks the kept axes and r the reduced ones, each at the input's element strides.
 * With chunks > 1 the results are partials, reduced again by a second launch. */
KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off,
                    GLOBAL_MEM char *in_base, ga_ssize in_off,
                    ga_ssize outputs, ga_ssize R, ga_ssize chunks, ga_ssize chunk${dim_params})
{
    GLOBAL_MEM ${out_type} *out = (GLOBAL_MEM ${out_type} *)(out_base + out_off);
    const GLOBAL_MEM ${in_type} *in = (const GLOBAL_MEM ${in_type} *)(in_base + in_off);
    for (ga_ssize w = GLOBAL_ID_0; w < outputs * chunks; w += LDIM_0 * GDIM_0) {
        const ga_ssize j = w / chunks, c = w % chunks;
        ga_ssize rest = j, base = 0;
${kept_lines}
        const ga_ssize first = c * chunk;
        const ga_ssize last = first + chunk < R ? first + chunk : R;
        ${acc_type} acc = ${identity};
${loop}
        out[w] = (${out_type})(acc);
    }
}
