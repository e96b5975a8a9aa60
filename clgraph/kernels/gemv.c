/* Matrix-vector products (both dialects), of one matrix or of a stack of them:
 *
 *     y[z][i] = alpha * sum over k of A[z][i, k] x[z][k]  +  beta * y[z][i]
 *
 * for 0 <= z < batches, with y not read when beta == 0; strides in elements, any, and
 * A[z], x[z], y[z] lie sa_batch, sx_batch, sy_batch elements past A[0], x[0], y[0] (a stride
 * 0 shares that operand). A group computes one row at a time (groups stride over the rows
 * of the whole stack): its work-items stride over k, so a row-major row is read
 * coalesced on GPUs, each with four partial sums (independent add chains where a group
 * is one work-item, as on CPUs), then the group adds its partial sums in local memory.
 * A dot product of two vectors is the case M == 1.
 * Launch: any number of groups of a power of two work-items, at most ${max_group}. */
KERNEL void ${name}(GLOBAL_MEM char *y_base, ga_ssize y_off,
                    GLOBAL_MEM char *a_base, ga_ssize a_off,
                    GLOBAL_MEM char *x_base, ga_ssize x_off,
                    ga_ssize M, ga_ssize K, ga_ssize sa0, ga_ssize sa1, ga_ssize sx, ga_ssize sy,
                    ga_ssize batches, ga_ssize sa_batch, ga_ssize sx_batch, ga_ssize sy_batch,
                    ${ctype} alpha, ${ctype} beta)
{
    LOCAL_MEM ${ctype} partial[${max_group}];
    GLOBAL_MEM ${ctype} *Y = (GLOBAL_MEM ${ctype} *)(y_base + y_off);
    const GLOBAL_MEM ${ctype} *A = (const GLOBAL_MEM ${ctype} *)(a_base + a_off);
    const GLOBAL_MEM ${ctype} *X = (const GLOBAL_MEM ${ctype} *)(x_base + x_off);
    const ga_ssize lid = LID_0, step = LDIM_0;

    for (ga_ssize item = GID_0; item < batches * M; item += GDIM_0) {
        const ga_ssize z = item / M, row = item % M;
        const GLOBAL_MEM ${ctype} *a = A + z * sa_batch + row * sa0;
        const GLOBAL_MEM ${ctype} *x = X + z * sx_batch;
        ${ctype} s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        ga_ssize k = lid;
        for (; k + 3 * step < K; k += 4 * step) {
            s0 += a[k * sa1] * x[k * sx];
            s1 += a[(k + step) * sa1] * x[(k + step) * sx];
            s2 += a[(k + 2 * step) * sa1] * x[(k + 2 * step) * sx];
            s3 += a[(k + 3 * step) * sa1] * x[(k + 3 * step) * sx];
        }
        for (; k < K; k += step)
            s0 += a[k * sa1] * x[k * sx];
        partial[lid] = (s0 + s1) + (s2 + s3);
        LOCAL_BARRIER();
        for (ga_ssize span = step / 2; span > 0; span /= 2) {
            if (lid < span)
                partial[lid] += partial[lid + span];
            LOCAL_BARRIER();
        }
        /* No barrier needed before the next row: every read of partial[lid] for lid > 0
           happened before the last barrier, and partial[0] is work-item 0's own. */
        if (lid == 0) {
            GLOBAL_MEM ${ctype} *y = Y + z * sy_batch + row * sy;
            *y = beta != 0 ? alpha * partial[0] + beta * *y : alpha * partial[0];
        }
    }
}
