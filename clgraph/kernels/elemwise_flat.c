/* Elementwise over n elements of C-contiguous arrays of one shape: element i of every
 * output from element i of every input (index 0 of a one-element, broadcast input). */
KERNEL void ${name}(${params}, ga_ssize n)
{
${pointers}
    for (ga_ssize i = GLOBAL_ID_0; i < n; i += LDIM_0 * GDIM_0) {
${body}
    }
}
