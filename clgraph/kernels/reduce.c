/* out[j * chunks + c] = reduction (${combine}) over the c-th chunk of r of the value at
 * [j, r] (an input's element, or a fused elementwise map of the inputs' elements): j
 * walks the kept axes and r the reduced ones, at the element strides of the inputs
 * (all inputs of a map share them). With chunks > 1 the results are partials, reduced
 * again by a second launch. */
KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off${in_params},
                    ga_ssize outputs, ga_ssize R, ga_ssize chunks, ga_ssize chunk${dim_params})
{
    GLOBAL_MEM ${out_type} *out = (GLOBAL_MEM ${out_type} *)(out_base + out_off);
${pointers}
    for (ga_ssize w = GLOBAL_ID_0; w < outputs * chunks; w += LDIM_0 * GDIM_0) {
        const ga_ssize j = w / chunks, c = w % chunks;
        ga_ssize rest = j, base = 0;
${kept_lines}
        const ga_ssize first = c * chunk;
        const ga_ssize last = first + chunk < R ? first + chunk : R;
        ${acc_type} acc = ${identity};
${loop}
        ${store};
    }
}
