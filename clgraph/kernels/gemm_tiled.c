/* Local-memory tiled GEMM for GPUs (both dialects):
 *
 *     C[m, n] = alpha * sum over k0 <= k < k1 of A[m, k] B[k, n]  +  beta * C[m, n]
 *
 * with C not read when beta == 0. A group of ${threads} x ${threads} work-items computes a
 * ${tile} x ${tile} tile of C, each work-item ${per} x ${per} elements spaced ${threads} apart (so the
 * reads of local memory and the stores to C are contiguous across a row of work-items).
 * K is walked in steps of ${tile_k}: the group stages that step's ${tile} x ${tile_k} slice of A and
 * ${tile_k} x ${tile} slice of B in local memory, zero-padded past the matrix edges, so every
 * work-item runs the same loop whatever the sizes. Strides are in elements: A and B
 * any (loads are coalesced for row-major inputs), C unit column stride.
 *
 * ${name} computes one product; ${name}_batched a stack of them, product z = GID_2 (the
 * third grid axis) reading A, B and writing C sa_batch, sb_batch, sc_batch elements past
 * product 0 (a stride 0 shares that operand).
 * Launch: (ceil(N / ${tile}), ceil(M / ${tile})[, products]) groups of (${threads}, ${threads}[, 1]). */
DEVICE_FUNC INLINE void ${name}_tile(GLOBAL_MEM ${ctype} *C, const GLOBAL_MEM ${ctype} *A,
                                     const GLOBAL_MEM ${ctype} *B, ga_ssize M, ga_ssize N, ga_ssize K,
                                     ga_ssize sa0, ga_ssize sa1, ga_ssize sb0, ga_ssize sb1, ga_ssize sc0,
                                     ${ctype} alpha, ${ctype} beta,
                                     LOCAL_MEM_ARG ${ctype} (*a_tile)[${tile} + 1],
                                     LOCAL_MEM_ARG ${ctype} (*b_tile)[${tile}])
{
    const ga_ssize tx = LID_0, ty = LID_1, t = ty * ${threads} + tx;
    const ga_ssize row0 = GID_1 * ${tile}, col0 = GID_0 * ${tile};

    ${ctype} acc[${per}][${per}];
    for (int i = 0; i < ${per}; ++i)
        for (int j = 0; j < ${per}; ++j)
            acc[i][j] = 0;

    for (ga_ssize kt = 0; kt < K; kt += ${tile_k}) {
        for (ga_ssize e = t; e < ${tile} * ${tile_k}; e += ${threads} * ${threads}) {
            const ga_ssize m = e / ${tile_k}, ka = e % ${tile_k};   /* consecutive work-items: consecutive k */
            a_tile[ka][m] = row0 + m < M && kt + ka < K ? A[(row0 + m) * sa0 + (kt + ka) * sa1] : (${ctype})0;
            const ga_ssize kb = e / ${tile}, n = e % ${tile};        /* consecutive work-items: consecutive n */
            b_tile[kb][n] = kt + kb < K && col0 + n < N ? B[(kt + kb) * sb0 + (col0 + n) * sb1] : (${ctype})0;
        }
        LOCAL_BARRIER();
        for (int k = 0; k < ${tile_k}; ++k) {
            ${ctype} a[${per}], b[${per}];
            for (int i = 0; i < ${per}; ++i)
                a[i] = a_tile[k][ty + i * ${threads}];
            for (int j = 0; j < ${per}; ++j)
                b[j] = b_tile[k][tx + j * ${threads}];
            for (int i = 0; i < ${per}; ++i)
                for (int j = 0; j < ${per}; ++j)
                    acc[i][j] += a[i] * b[j];
        }
        LOCAL_BARRIER();
    }

    for (int i = 0; i < ${per}; ++i) {
        const ga_ssize r = row0 + ty + i * ${threads};
        for (int j = 0; j < ${per}; ++j) {
            const ga_ssize n = col0 + tx + j * ${threads};
            if (r < M && n < N) {
                GLOBAL_MEM ${ctype} *c = C + r * sc0 + n;
                *c = beta != 0 ? alpha * acc[i][j] + beta * *c : alpha * acc[i][j];
            }
        }
    }
}

KERNEL void ${name}(GLOBAL_MEM char *c_base, ga_ssize c_off,
                    GLOBAL_MEM char *a_base, ga_ssize a_off,
                    GLOBAL_MEM char *b_base, ga_ssize b_off,
                    ga_ssize M, ga_ssize N, ga_ssize k0, ga_ssize k1,
                    ga_ssize sa0, ga_ssize sa1, ga_ssize sb0, ga_ssize sb1, ga_ssize sc0,
                    ${ctype} alpha, ${ctype} beta)
{
    LOCAL_MEM ${ctype} a_tile[${tile_k}][${tile} + 1];   /* a_tile[k][m]; +1: no bank conflicts on stores */
    LOCAL_MEM ${ctype} b_tile[${tile_k}][${tile}];
    ${name}_tile((GLOBAL_MEM ${ctype} *)(c_base + c_off),
                 (const GLOBAL_MEM ${ctype} *)(a_base + a_off) + k0 * sa1,
                 (const GLOBAL_MEM ${ctype} *)(b_base + b_off) + k0 * sb0,
                 M, N, k1 - k0, sa0, sa1, sb0, sb1, sc0, alpha, beta, a_tile, b_tile);
}

KERNEL void ${name}_batched(GLOBAL_MEM char *c_base, ga_ssize c_off,
                            GLOBAL_MEM char *a_base, ga_ssize a_off,
                            GLOBAL_MEM char *b_base, ga_ssize b_off,
                            ga_ssize M, ga_ssize N, ga_ssize k0, ga_ssize k1,
                            ga_ssize sa0, ga_ssize sa1, ga_ssize sb0, ga_ssize sb1, ga_ssize sc0,
                            ga_ssize sa_batch, ga_ssize sb_batch, ga_ssize sc_batch,
                            ${ctype} alpha, ${ctype} beta)
{
    LOCAL_MEM ${ctype} a_tile[${tile_k}][${tile} + 1];
    LOCAL_MEM ${ctype} b_tile[${tile_k}][${tile}];
    ${name}_tile((GLOBAL_MEM ${ctype} *)(c_base + c_off) + GID_2 * sc_batch,
                 (const GLOBAL_MEM ${ctype} *)(a_base + a_off) + GID_2 * sa_batch + k0 * sa1,
                 (const GLOBAL_MEM ${ctype} *)(b_base + b_off) + GID_2 * sb_batch + k0 * sb0,
                 M, N, k1 - k0, sa0, sa1, sb0, sb1, sc0, alpha, beta, a_tile, b_tile);
}
