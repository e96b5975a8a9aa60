/* The softmax family (${mode}) along lines: one work-item per line, in grid-stride
 * loops. A line is n elements, at element stride <array>_step in each line array (out,
 * a, b); the other axes, collapsed to kdim{d}, place each array's line by its own
 * strides <array>_s{d}. Per-row arrays (g, idx, and the output of the cross-entropies)
 * have one element per line. Values are computed in ${acc_type}; a line is shifted by
 * its maximum so that exp never overflows.
 *   softmax           out = exp(a - max) / sum(exp(a - max))
 *   log_softmax       out = (a - max) - log(sum(exp(a - max)))
 *   softmax_grad      out = (a - sum(a * b)) * b              (a: dy, b: softmax)
 *   log_softmax_grad  out = a - exp(b) * sum(a)               (a: dy, b: log_softmax)
 *   xent_1hot         out[row] = -log(a[idx])                 (a: class probabilities)
 *   xent_1hot_dx      out = -g / a[idx] at idx, 0 elsewhere
 *   xent_softmax      out[row] = log(sum(exp(a - max))) - (a[idx] - max)   (a: logits)
 *   xent_softmax_dx   out = (softmax(a) - (i == idx)) * g
 * Class indices lie in [0, n): the host checks them before the launch.
 *
 * W > 1 (OpenCL CPU devices, lines of unit step): the loops that call exp run on
 * vectors of W elements (VEC), then one element at a time over the rest of the line;
 * CPU OpenCL compilers vectorize nothing of a loop calling exp by themselves. */
#define MODE_${mode} 1
#define W ${width}
#define LOAD(p, at) ${load}
#define STORE(v, at) ${store}
#if W > 1
#define VEC ${vector_type}
#define VLOAD(p, at) vload${width}(0, (p) + (at))
#define VSTORE(v, at) vstore${width}((v), 0, out + (at))
#define HSUM(v) (${lane_sum})
#define HMAX(v) (${lane_max})
#endif

KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off${array_params},
                    ga_ssize lines, ga_ssize n${step_params}${dim_params})
{
    GLOBAL_MEM ${out_type} *out = (GLOBAL_MEM ${out_type} *)(out_base + out_off);
${pointers}
    for (ga_ssize w = GLOBAL_ID_0; w < lines; w += LDIM_0 * GDIM_0) {
        ga_ssize rest = w${offsets};
${kept_lines}
        ga_ssize i;
#if defined(MODE_xent_1hot) || defined(MODE_xent_1hot_dx) || \
    defined(MODE_xent_softmax) || defined(MODE_xent_softmax_dx)
        const ga_ssize k = (ga_ssize)idx[idx_at];
#endif
#if defined(MODE_softmax) || defined(MODE_log_softmax) || \
    defined(MODE_xent_softmax) || defined(MODE_xent_softmax_dx)
        /* a NaN is never the maximum, but makes the sum NaN: the line is NaN, as the math */
        ${acc_type} m = -INFINITY, s = 0;
        i = 0;
#if W > 1
        VEC vm = (VEC)(-INFINITY);
        for (; i + W <= n; i += W) vm = fmax(vm, VLOAD(a, a_at + i));
        m = HMAX(vm);
#endif
        for (; i < n; i++) m = fmax(m, LOAD(a, a_at + i * a_step));
        i = 0;
#if W > 1
        VEC vs = (VEC)(0);
        for (; i + W <= n; i += W) vs += exp(VLOAD(a, a_at + i) - m);
        s = HSUM(vs);
#endif
        for (; i < n; i++) s += exp(LOAD(a, a_at + i * a_step) - m);
#elif defined(MODE_softmax_grad)
        ${acc_type} s = 0;
        for (i = 0; i < n; i++) s += LOAD(a, a_at + i * a_step) * LOAD(b, b_at + i * b_step);
#elif defined(MODE_log_softmax_grad)
        ${acc_type} s = 0;
        i = 0;
#if W > 1
        VEC vs = (VEC)(0);
        for (; i + W <= n; i += W) vs += VLOAD(a, a_at + i);
        s = HSUM(vs);
#endif
        for (; i < n; i++) s += LOAD(a, a_at + i * a_step);
#endif

        i = 0;
#if defined(MODE_softmax)
#if W > 1
        for (; i + W <= n; i += W) VSTORE(exp(VLOAD(a, a_at + i) - m) / s, out_at + i);
#endif
        for (; i < n; i++) STORE(exp(LOAD(a, a_at + i * a_step) - m) / s, out_at + i * out_step);
#elif defined(MODE_log_softmax)
        const ${acc_type} log_s = log(s);
#if W > 1
        for (; i + W <= n; i += W) VSTORE((VLOAD(a, a_at + i) - m) - log_s, out_at + i);
#endif
        for (; i < n; i++) STORE((LOAD(a, a_at + i * a_step) - m) - log_s, out_at + i * out_step);
#elif defined(MODE_softmax_grad)
        for (; i < n; i++)
            STORE((LOAD(a, a_at + i * a_step) - s) * LOAD(b, b_at + i * b_step), out_at + i * out_step);
#elif defined(MODE_log_softmax_grad)
#if W > 1
        for (; i + W <= n; i += W) VSTORE(VLOAD(a, a_at + i) - exp(VLOAD(b, b_at + i)) * s, out_at + i);
#endif
        for (; i < n; i++)
            STORE(LOAD(a, a_at + i * a_step) - exp(LOAD(b, b_at + i * b_step)) * s, out_at + i * out_step);
#elif defined(MODE_xent_1hot)
        STORE(-log(LOAD(a, a_at + k * a_step)), out_at);
#elif defined(MODE_xent_1hot_dx)
        const ${acc_type} at_class = -LOAD(g, g_at) / LOAD(a, a_at + k * a_step);
        for (; i < n; i++) STORE(i == k ? at_class : (${acc_type})0, out_at + i * out_step);
#elif defined(MODE_xent_softmax)
        STORE(log(s) - (LOAD(a, a_at + k * a_step) - m), out_at);
#elif defined(MODE_xent_softmax_dx)
        /* softmax * g everywhere, then the true class's element once more, less g */
        const ${acc_type} weight = LOAD(g, g_at);
#if W > 1
        for (; i + W <= n; i += W) VSTORE(exp(VLOAD(a, a_at + i) - m) / s * weight, out_at + i);
#endif
        for (; i < n; i++) STORE(exp(LOAD(a, a_at + i * a_step) - m) / s * weight, out_at + i * out_step);
        STORE((exp(LOAD(a, a_at + k * a_step) - m) / s - 1) * weight, out_at + k * out_step);
#endif
    }
}

#undef MODE_${mode}
#undef W
#undef LOAD
#undef STORE
#if ${width} > 1
#undef VEC
#undef VLOAD
#undef VSTORE
#undef HSUM
#undef HMAX
#endif
