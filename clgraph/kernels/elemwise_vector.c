/* Elementwise on vector types, for CPU devices: a work-item computes ${width} elements
 * with one vector per array (vload/vstore), and the n % ${width} elements left over are
 * computed one per work-item by the first work-items. */
KERNEL void ${name}(${params}, ga_ssize n)
{
${pointers}
    const ga_ssize vectors = n / ${width};
    const ga_ssize gid = GLOBAL_ID_0;
    if (gid < vectors) {
${vector_body}
    }
    if (gid < n - vectors * ${width}) {
        const ga_ssize i = vectors * ${width} + gid;
${body}
    }
}
