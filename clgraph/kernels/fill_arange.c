/* numpy's arange fill, one work-item per element: out[0] = first and out[1] = second
 * (the start and the start plus one step, converted to the output type by the host),
 * then out[i] = first + i * delta with delta = second - first, computed in ${step_type}:
 * integers wrap in 64 bits and are cut to the output type; floats round the product
 * before the sum, as numpy does, so no fused multiply-add may join them. */
#ifdef DIALECT_OPENCL
#pragma OPENCL FP_CONTRACT OFF
#endif

DEVICE_FUNC INLINE ${step_type} ${name}_product(${step_type} a, ${step_type} b)
{
#ifdef DIALECT_CUDA
    return ${cuda_product};
#else
    return a * b;
#endif
}

KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off, ga_ssize n,
                    ${step_type} first, ${step_type} second)
{
    GLOBAL_MEM ${out_type} *out = (GLOBAL_MEM ${out_type} *)(out_base + out_off);
    const ga_ssize i = GLOBAL_ID_0;
    if (i < n) {
        const ${step_type} value = i == 0 ? first : i == 1 ? second
                                   : first + ${name}_product((${step_type})i, second - first);
        ${store};
    }
}
