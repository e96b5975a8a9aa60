/* Register-blocked GEMM for CPU devices, on OpenCL vector types (OpenCL only):
 *
 *     C[m, n] = alpha * sum over k0 <= k < k1 of A[m, k] B[k, n]  +  beta * C[m, n]
 *
 * with C not read when beta == 0 (it may hold garbage). A work-item computes a
 * ${rows} x ${cols} block of C, held in ${rows} x ${vectors} registers of ${vtype}: per k, ${rows}
 * broadcast elements of A times ${vectors} vectors of a row of B. Consecutive work-items
 * walk a band of ${band} block rows before the next block column, so the band's rows of A
 * stay in L2 and one column panel of B in L1; the host cuts K into chunks (k0, k1) so
 * that both fit. Strides are in elements: A any, B and C unit column stride. Blocks cut
 * by the matrix edge take a slower path: whole vectors where they fit, then scalars.
 *
 * Vectors are loaded and stored element by element: PoCL's vload/vstore/fma are calls
 * into its builtin library, which spill every accumulator; element accesses compile to
 * plain unaligned vector moves, and a * b + c to fused multiply-adds. */
#define GEMM_LOAD(p) ((${vtype})(${load_elements}))
#define GEMM_STORE(p, v) { ${store_elements} }
/* c[0:${width}] = alpha * acc + beta * c[0:${width}], reading c only when beta != 0. */
#define GEMM_OUT(c, acc) { ${vtype} out_ = alpha * (acc); if (beta != 0) out_ += beta * GEMM_LOAD(c); GEMM_STORE(c, out_) }

KERNEL void ${name}(GLOBAL_MEM char *c_base, ga_ssize c_off,
                    GLOBAL_MEM char *a_base, ga_ssize a_off,
                    GLOBAL_MEM char *b_base, ga_ssize b_off,
                    ga_ssize M, ga_ssize N, ga_ssize k0, ga_ssize k1,
                    ga_ssize sa0, ga_ssize sa1, ga_ssize sb0, ga_ssize sc0,
                    ${ctype} alpha, ${ctype} beta)
{
    GLOBAL_MEM ${ctype} *C = (GLOBAL_MEM ${ctype} *)(c_base + c_off);
    const GLOBAL_MEM ${ctype} *A = (const GLOBAL_MEM ${ctype} *)(a_base + a_off) + k0 * sa1;
    const GLOBAL_MEM ${ctype} *B = (const GLOBAL_MEM ${ctype} *)(b_base + b_off) + k0 * sb0;
    const ga_ssize K = k1 - k0;
    const ga_ssize row_blocks = (M + ${rows} - 1) / ${rows};
    const ga_ssize col_blocks = (N + ${cols} - 1) / ${cols};
    const ga_ssize g = GLOBAL_ID_0;
    if (g >= row_blocks * col_blocks)
        return;
    const ga_ssize band = g / (${band} * col_blocks), in_band = g % (${band} * col_blocks);
    const ga_ssize band_rows = row_blocks - band * ${band} < ${band} ? row_blocks - band * ${band} : ${band};
    const ga_ssize row0 = (band * ${band} + in_band % band_rows) * ${rows};
    const ga_ssize col0 = in_band / band_rows * ${cols};

    if (row0 + ${rows} <= M && col0 + ${cols} <= N) {
${accumulators}
${row_pointers}
        const GLOBAL_MEM ${ctype} *b = B + col0;
        ga_ssize k = 0;
        for (; k + 2 <= K; k += 2) {   /* unrolled twice: fewer loop overheads per FMA */
${step}
${step}
        }
        if (k < K) {
${step}
        }
${stores}
        return;
    }

    const ga_ssize row_end = M < row0 + ${rows} ? M : row0 + ${rows};
    const ga_ssize col_end = N < col0 + ${cols} ? N : col0 + ${cols};
    for (ga_ssize r = row0; r < row_end; ++r) {
        const GLOBAL_MEM ${ctype} *a = A + r * sa0;
        GLOBAL_MEM ${ctype} *c = C + r * sc0;
        ga_ssize j = col0;
        for (; j + ${width} <= col_end; j += ${width}) {
            ${vtype} acc = (${vtype})(0);
            for (ga_ssize k = 0; k < K; ++k)
                acc += (${vtype})(a[k * sa1]) * GEMM_LOAD((B + k * sb0 + j));
            GEMM_OUT((c + j), acc)
        }
        for (; j < col_end; ++j) {
            ${ctype} acc = 0;
            for (ga_ssize k = 0; k < K; ++k)
                acc += a[k * sa1] * B[k * sb0 + j];
            c[j] = beta != 0 ? alpha * acc + beta * c[j] : alpha * acc;
        }
    }
}

#undef GEMM_OUT
#undef GEMM_STORE
#undef GEMM_LOAD
