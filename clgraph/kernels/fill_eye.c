/* The ones of numpy's eye, written over an array of zeros: one work-item per element
 * of the diagonal, which starts at element first and steps over step elements. */
KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off, ga_ssize n,
                    ga_ssize first, ga_ssize step)
{
    GLOBAL_MEM ${out_type} *out = (GLOBAL_MEM ${out_type} *)(out_base + out_off);
    const ga_ssize i = GLOBAL_ID_0;
    if (i < n) {
        const ga_ssize at = first + i * step;
        ${store};
    }
}
