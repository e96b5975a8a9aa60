/* Running ${mode} along one axis: out[j, i] = in[j, 0] ${operator} ... ${operator} in[j, i],
 * where j walks the other (kept) axes, in and out at their own element strides. A task
 * is block b of line j (i in [b * block, b * block + block)), scanned in order by one
 * work-item, accumulating in the output's type as numpy does.
 * ${carry_doc} */
KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off,
                    GLOBAL_MEM char *in_base, ga_ssize in_off${carry_params},
                    ga_ssize tasks, ga_ssize blocks, ga_ssize block,
                    ga_ssize N, ga_ssize in_step, ga_ssize out_step${dim_params})
{
    GLOBAL_MEM ${out_type} *out = (GLOBAL_MEM ${out_type} *)(out_base + out_off);
    const GLOBAL_MEM ${in_type} *in = (const GLOBAL_MEM ${in_type} *)(in_base + in_off);
${carry_pointer}
    for (ga_ssize w = GLOBAL_ID_0; w < tasks; w += LDIM_0 * GDIM_0) {
        const ga_ssize j = w / blocks, b = w % blocks;
        ga_ssize rest = j, in_at = 0, out_at = 0;
${kept_lines}
        const ga_ssize first = b * block;
        const ga_ssize last = first + block < N ? first + block : N;
        ${acc_type} acc = ${start};
        in_at += first * in_step;
        out_at += first * out_step;
        for (ga_ssize i = first; i < last; i++, in_at += in_step, out_at += out_step) {
            acc = acc ${operator} (${acc_type})(${load});
            ${store}
        }
    }
}
