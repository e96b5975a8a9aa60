/* Register-blocked GEMM for CPU devices, on OpenCL vector types (OpenCL only):
 *
 *     C[m, n] = alpha * sum over k0 <= k < k1 of A[m, k] B[k, n]  +  beta * C[m, n]
 *
 * with C not read when beta == 0 (it may hold garbage). A work-item computes a
 * ${rows} x ${cols} block of C, held in ${rows} x ${vectors} registers of ${vtype}: per k, ${rows}
 * broadcast elements of A times ${vectors} vectors of a row of B. Consecutive work-items
 * walk a band of ${band} block rows before the next block column, so the band's rows of A
 * stay in L2 while a column panel of B is reused from L1; the host cuts K into chunks
 * (k0, k1) so that both fit.
 *
 * Strides are in elements: A any, C unit column stride, and B is read in panels of
 * ${cols} columns, B[k, n] = B[(n / ${cols}) * sbp + k * sb0 + n % ${cols}]: a matrix with contiguous
 * rows (sbp = ${cols}) or the contiguous panels that ${name}_pack_b writes (sbp = K * ${cols},
 * sb0 = ${cols}), which L1 holds whatever the row stride of B (a power-of-two stride puts a
 * whole unpacked panel in one cache set). A block cut by the last row takes the fast
 * path (its rows past M read row M - 1 and are not stored); one cut by the last column
 * a slower path: whole vectors where they fit, then scalars.
 *
 * ${name} computes one product; ${name}_batched a stack of them, product z = GID_1 (the
 * second grid axis) reading A, B and writing C sa_batch, sb_batch, sc_batch elements past
 * product 0 (a stride 0 shares that operand). Its offsets cost the inner loop registers
 * (a few spills: about half the speed), hence two entries; the kernels below (_pack_b,
 * _gemv, _gevm) take stacks the same way, in their one entry.
 *
 * A rendering with an epilogue applies an elementwise operation to each result before
 * storing it (the one value of C it computes, the other inputs C-contiguous arrays of C's
 * shape read at the same element, or one-element arrays): C = f(alpha * A B + beta * C,
 * ...) in one pass, for a single product of one K chunk.
 *
 * The rendering for loops holds ${name}_steps (the loop kernel below) and _pack_b in place
 * of the product kernels.
 *
 * Vectors are loaded and stored element by element: PoCL's vload/vstore/fma are calls
 * into its builtin library, which spill every accumulator; element accesses compile to
 * plain unaligned vector moves, and a * b + c to fused multiply-adds. */
#define GEMM_LOAD(p) ((${vtype})(${load_elements}))
#define GEMM_STORE(p, v) { ${store_elements} }
/* c[0:${width}] = alpha * acc + beta * c[0:${width}], reading c only when beta != 0. */
#define GEMM_OUT(c, acc) { \
        ${vtype} out_ = alpha * (acc); \
        if (beta != 0) out_ += beta * GEMM_LOAD(c); \
        ${vector_epilogue} \
        GEMM_STORE(c, out_) }

/* A program holds the matrix kernels (${name}, _batched, _pack_b), the loop kernels
 * (_steps, _pack_b) or the vector ones (_gemv, _gevm): each is a long build, and a graph
 * of matrix-vector products needs no GEMM. */
#if ${matrix_kernels}
/* The block of C at (row_block, col_block), both within C. */
DEVICE_FUNC INLINE void ${name}_block(ga_ssize row_block, ga_ssize col_block,
                                      GLOBAL_MEM ${ctype} *C, const GLOBAL_MEM ${ctype} *A,
                                      const GLOBAL_MEM ${ctype} *B, ga_ssize M, ga_ssize N, ga_ssize K,
                                      ga_ssize sa0, ga_ssize sa1, ga_ssize sb0, ga_ssize sbp, ga_ssize sc0,
                                      ${ctype} alpha, ${ctype} beta${epilogue_params})
{
    const ga_ssize row0 = row_block * ${rows}, col0 = col_block * ${cols};
    const GLOBAL_MEM ${ctype} *b_panel = B + col_block * sbp;   /* B[k, col0 + j] = b_panel[k * sb0 + j] */

    if (col0 + ${cols} <= N) {
${accumulators}
${row_pointers}
        const GLOBAL_MEM ${ctype} *b = b_panel;
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

    const ga_ssize rows = M - row0 < ${rows} ? M - row0 : ${rows};
    const ga_ssize cols = N - col0 < ${cols} ? N - col0 : ${cols};
    for (ga_ssize i = 0; i < rows; ++i) {
        const GLOBAL_MEM ${ctype} *a = A + (row0 + i) * sa0;
        GLOBAL_MEM ${ctype} *c = C + (row0 + i) * sc0 + col0;
        ga_ssize j = 0;
        for (; j + ${width} <= cols; j += ${width}) {
            ${vtype} acc = (${vtype})(0);
            for (ga_ssize k = 0; k < K; ++k)
                acc += (${vtype})(a[k * sa1]) * GEMM_LOAD((b_panel + k * sb0 + j));
            GEMM_OUT((c + j), acc)
        }
        for (; j < cols; ++j) {
            ${ctype} acc = 0;
            for (ga_ssize k = 0; k < K; ++k)
                acc += a[k * sa1] * b_panel[k * sb0 + j];
            ${ctype} out1_ = beta != 0 ? alpha * acc + beta * c[j] : alpha * acc;
            ${scalar_epilogue}
            c[j] = out1_;
        }
    }
}

#if ${loop_kernel}
/* A loop of products, C_t = f(A_t B, in_k + t * in_k_step, ...) for steps
 * t = 0 .. steps - 1, where
 *
 *     C_t = C + ((first + t) % length) * sc_step,  A_t = C + ((first + t + tap) % length) * sc_step
 *
 * (tap < 0 and first + tap >= 0: A_t is the result of an earlier step, or an initial
 * state held before it): a recurrent layer's whole forward pass in one launch. Row i of
 * C_t reads row i of A_t only, so a group owns a block row for every step and waits
 * only for its own work-items between steps (a barrier), never for another group:
 * group g owns block row g, its work-item l the block column l. A_t and C_t have
 * contiguous rows sc0 elements apart, B is packed, K is one chunk. */
KERNEL void ${name}_steps(GLOBAL_MEM char *c_base, ga_ssize c_off,
                          GLOBAL_MEM char *b_base, ga_ssize b_off,
                          ga_ssize M, ga_ssize N, ga_ssize K, ga_ssize steps,
                          ga_ssize first, ga_ssize tap, ga_ssize length, ga_ssize sc_step, ga_ssize sc0,
                          ga_ssize sbp${epilogue_loop_params})
{
    GLOBAL_MEM ${ctype} *C = (GLOBAL_MEM ${ctype} *)(c_base + c_off);
    const GLOBAL_MEM ${ctype} *B = (const GLOBAL_MEM ${ctype} *)(b_base + b_off);
    for (ga_ssize t = 0; t < steps; ++t) {
        ${name}_block(GID_0, LID_0, C + (first + t) % length * sc_step, C + (first + t + tap) % length * sc_step,
                      B, M, N, K, sc0, 1, ${cols}, sbp, sc0, (${ctype})1, (${ctype})0${epilogue_loop_args});
        barrier(CLK_GLOBAL_MEM_FENCE);   /* the step's rows, written by the group, for the next */
    }
}
#else
/* Work-item g's block, in band order. */
DEVICE_FUNC INLINE void ${name}_blocks(GLOBAL_MEM ${ctype} *C, const GLOBAL_MEM ${ctype} *A,
                                       const GLOBAL_MEM ${ctype} *B, ga_ssize M, ga_ssize N, ga_ssize K,
                                       ga_ssize sa0, ga_ssize sa1, ga_ssize sb0, ga_ssize sbp, ga_ssize sc0,
                                       ${ctype} alpha, ${ctype} beta${epilogue_params})
{
    const ga_ssize row_blocks = (M + ${rows} - 1) / ${rows};
    const ga_ssize col_blocks = (N + ${cols} - 1) / ${cols};
    const ga_ssize g = GLOBAL_ID_0;
    if (g >= row_blocks * col_blocks)
        return;
    const ga_ssize band = g / (${band} * col_blocks), in_band = g % (${band} * col_blocks);
    const ga_ssize band_rows = row_blocks - band * ${band} < ${band} ? row_blocks - band * ${band} : ${band};
    ${name}_block(band * ${band} + in_band % band_rows, in_band / band_rows, C, A, B, M, N, K,
                  sa0, sa1, sb0, sbp, sc0, alpha, beta${epilogue_call});
}

KERNEL void ${name}(GLOBAL_MEM char *c_base, ga_ssize c_off,
                    GLOBAL_MEM char *a_base, ga_ssize a_off,
                    GLOBAL_MEM char *b_base, ga_ssize b_off,
                    ga_ssize M, ga_ssize N, ga_ssize k0, ga_ssize k1,
                    ga_ssize sa0, ga_ssize sa1, ga_ssize sb0, ga_ssize sbp, ga_ssize sc0,
                    ${ctype} alpha, ${ctype} beta${epilogue_kernel_params})
{
    ${name}_blocks((GLOBAL_MEM ${ctype} *)(c_base + c_off),
                   (const GLOBAL_MEM ${ctype} *)(a_base + a_off) + k0 * sa1,
                   (const GLOBAL_MEM ${ctype} *)(b_base + b_off) + k0 * sb0,
                   M, N, k1 - k0, sa0, sa1, sb0, sbp, sc0, alpha, beta${epilogue_args});
}

KERNEL void ${name}_batched(GLOBAL_MEM char *c_base, ga_ssize c_off,
                            GLOBAL_MEM char *a_base, ga_ssize a_off,
                            GLOBAL_MEM char *b_base, ga_ssize b_off,
                            ga_ssize M, ga_ssize N, ga_ssize k0, ga_ssize k1,
                            ga_ssize sa0, ga_ssize sa1, ga_ssize sb0, ga_ssize sbp, ga_ssize sc0,
                            ga_ssize sa_batch, ga_ssize sb_batch, ga_ssize sc_batch,
                            ${ctype} alpha, ${ctype} beta${epilogue_kernel_params})
{
    ${name}_blocks((GLOBAL_MEM ${ctype} *)(c_base + c_off) + GID_1 * sc_batch,
                   (const GLOBAL_MEM ${ctype} *)(a_base + a_off) + GID_1 * sa_batch + k0 * sa1,
                   (const GLOBAL_MEM ${ctype} *)(b_base + b_off) + GID_1 * sb_batch + k0 * sb0,
                   M, N, k1 - k0, sa0, sa1, sb0, sbp, sc0, alpha, beta${epilogue_args});
}
#endif

/* The panels of B that ${name} reads with sbp = K * ${cols}, sb0 = ${cols}:
 * out[z][p][k][j] = B[z][k, p * ${cols} + j] for a stack of B of K x N (any strides, B[z]
 * sb_batch elements past B[0], z = GID_1), zero past column N - 1. A work-item copies
 * ${pack_rows} rows of a panel (one row per work-item costs PoCL more in work-item switches
 * than in copying). */
KERNEL void ${name}_pack_b(GLOBAL_MEM char *out_base, ga_ssize out_off,
                           GLOBAL_MEM char *b_base, ga_ssize b_off,
                           ga_ssize K, ga_ssize N, ga_ssize sb0, ga_ssize sb1, ga_ssize sb_batch)
{
    const ga_ssize runs = (K + ${pack_rows} - 1) / ${pack_rows};
    const ga_ssize panels = (N + ${cols} - 1) / ${cols};
    GLOBAL_MEM ${ctype} *out = (GLOBAL_MEM ${ctype} *)(out_base + out_off) + GID_1 * panels * K * ${cols};
    const GLOBAL_MEM ${ctype} *B = (const GLOBAL_MEM ${ctype} *)(b_base + b_off) + GID_1 * sb_batch;
    for (ga_ssize i = GLOBAL_ID_0; i < runs * panels; i += LDIM_0 * GDIM_0) {
        const ga_ssize n0 = i / runs * ${cols}, k0 = i % runs * ${pack_rows};
        const ga_ssize k1 = K < k0 + ${pack_rows} ? K : k0 + ${pack_rows};
        for (ga_ssize k = k0; k < k1; ++k) {
            GLOBAL_MEM ${ctype} *o = out + (n0 * K + k * ${cols});
            const GLOBAL_MEM ${ctype} *b = B + k * sb0 + n0 * sb1;
            for (int j = 0; j < ${cols}; ++j)
                o[j] = n0 + j < N ? b[j * sb1] : (${ctype})0;
        }
    }
}

#endif

#if ${vector_kernels}
/* Matrix-vector product on vectors: y[i] = alpha * sum over k of A[i, k] x[k] + beta * y[i]
 * (y not read when beta == 0) for A with contiguous rows and a contiguous x; strides in
 * elements. A work-item computes one row with four vector accumulators (independent
 * FMA chains), then the last K % ${width} elements with scalars. */
KERNEL void ${name}_gemv(GLOBAL_MEM char *y_base, ga_ssize y_off,
                         GLOBAL_MEM char *a_base, ga_ssize a_off,
                         GLOBAL_MEM char *x_base, ga_ssize x_off,
                         ga_ssize M, ga_ssize K, ga_ssize sa0, ga_ssize sy,
                         ga_ssize sa_batch, ga_ssize sx_batch, ga_ssize sy_batch,
                         ${ctype} alpha, ${ctype} beta)
{
    const ga_ssize row = GLOBAL_ID_0;
    if (row >= M)
        return;
    GLOBAL_MEM ${ctype} *y = (GLOBAL_MEM ${ctype} *)(y_base + y_off) + GID_1 * sy_batch;
    const GLOBAL_MEM ${ctype} *x = (const GLOBAL_MEM ${ctype} *)(x_base + x_off) + GID_1 * sx_batch;
    const GLOBAL_MEM ${ctype} *a = (const GLOBAL_MEM ${ctype} *)(a_base + a_off) + GID_1 * sa_batch + row * sa0;
    ${vtype} acc0 = (${vtype})(0), acc1 = (${vtype})(0), acc2 = (${vtype})(0), acc3 = (${vtype})(0);
    ga_ssize k = 0;
    for (; k + 4 * ${width} <= K; k += 4 * ${width}) {
        acc0 += GEMM_LOAD((a + k)) * GEMM_LOAD((x + k));
        acc1 += GEMM_LOAD((a + k + ${width})) * GEMM_LOAD((x + k + ${width}));
        acc2 += GEMM_LOAD((a + k + 2 * ${width})) * GEMM_LOAD((x + k + 2 * ${width}));
        acc3 += GEMM_LOAD((a + k + 3 * ${width})) * GEMM_LOAD((x + k + 3 * ${width}));
    }
    for (; k + ${width} <= K; k += ${width})
        acc0 += GEMM_LOAD((a + k)) * GEMM_LOAD((x + k));
    const ${vtype} acc = (acc0 + acc1) + (acc2 + acc3);
    ${ctype} sum = ${horizontal_sum};
    for (; k < K; ++k)
        sum += a[k] * x[k];
    y[row * sy] = beta != 0 ? alpha * sum + beta * y[row * sy] : alpha * sum;
}

/* Vector-matrix product on vectors: y[n] = alpha * sum over k of x[k] B[k, n] + beta * y[n]
 * (y not read when beta == 0) for B with contiguous rows; strides in elements. A
 * work-item computes ${span_vectors} vectors of y, adding x[k] times a row of B for each k
 * (reading B row by row, contiguously), then the columns past the last whole vector. */
KERNEL void ${name}_gevm(GLOBAL_MEM char *y_base, ga_ssize y_off,
                         GLOBAL_MEM char *x_base, ga_ssize x_off,
                         GLOBAL_MEM char *b_base, ga_ssize b_off,
                         ga_ssize K, ga_ssize N, ga_ssize sx, ga_ssize sb0, ga_ssize sy,
                         ga_ssize sx_batch, ga_ssize sb_batch, ga_ssize sy_batch,
                         ${ctype} alpha, ${ctype} beta)
{
    GLOBAL_MEM ${ctype} *y = (GLOBAL_MEM ${ctype} *)(y_base + y_off) + GID_1 * sy_batch;
    const GLOBAL_MEM ${ctype} *x = (const GLOBAL_MEM ${ctype} *)(x_base + x_off) + GID_1 * sx_batch;
    const GLOBAL_MEM ${ctype} *B = (const GLOBAL_MEM ${ctype} *)(b_base + b_off) + GID_1 * sb_batch;
    const ga_ssize j0 = GLOBAL_ID_0 * ${span_vectors} * ${width};
    if (j0 >= N)
        return;
    const ga_ssize j1 = N - j0 < ${span_vectors} * ${width} ? N : j0 + ${span_vectors} * ${width};
    const ga_ssize vectors = (j1 - j0) / ${width};
    ${vtype} acc[${span_vectors}];
    for (int v = 0; v < ${span_vectors}; ++v)
        acc[v] = (${vtype})(0);
    for (ga_ssize k = 0; k < K; ++k) {
        const ${vtype} xk = (${vtype})(x[k * sx]);
        const GLOBAL_MEM ${ctype} *b = B + k * sb0 + j0;
        for (ga_ssize v = 0; v < vectors; ++v)
            acc[v] += xk * GEMM_LOAD((b + v * ${width}));
    }
    for (ga_ssize v = 0; v < vectors; ++v) {
        ${ctype} sum[${width}];
        GEMM_STORE(sum, acc[v])
        for (int e = 0; e < ${width}; ++e) {
            GLOBAL_MEM ${ctype} *out = y + (j0 + v * ${width} + e) * sy;
            *out = beta != 0 ? alpha * sum[e] + beta * *out : alpha * sum[e];
        }
    }
    for (ga_ssize j = j0 + vectors * ${width}; j < j1; ++j) {
        ${ctype} sum = 0;
        for (ga_ssize k = 0; k < K; ++k)
            sum += x[k * sx] * B[k * sb0 + j];
        y[j * sy] = beta != 0 ? alpha * sum + beta * y[j * sy] : alpha * sum;
    }
}
#endif

#undef GEMM_OUT
#undef GEMM_STORE
#undef GEMM_LOAD
