/* Stable sort and argsort of lines of ${bits}-bit elements along one axis, by a bitonic
 * network.
 *
 * Each element becomes a (key, index) pair: the key is an unsigned integer ordered as
 * numpy orders the values (-0.0 equals 0.0, NaNs last and equal to each other), the
 * index its position in its line. Pairs compare by key, then by index, so no two are
 * equal and the network's result is the one stable order, whatever the device.
 *
 * Lines are padded to a power of two, `padded`, with pairs (largest key, position)
 * that sort after every element; `total` = lines * padded positions in all. The
 * network runs stages k = 2, 4, ..., padded, each of steps j = k/2, ..., 2, 1 that
 * compare-exchange positions q and q + j (bit j of q clear), ascending where bit k of
 * q is clear, descending where it is set, except in the last stage (k = padded),
 * which sorts every line ascending.
 *
 * A launch runs steps on tiles of `tile` positions (a power of two from 8 to ${tile}),
 * one work-group of tile/8 work-items per tile: tile element t is position
 * base + t * stride, where the group's base fills the bits around those of t. From
 * distance j_top of stage k_first, it runs every step down to distance `stride`, then
 * stages up to k_last: with stride 1 a launch sorts whole short lines (several a tile)
 * or the tiles of a long line; with a larger stride it runs the steps at distances of
 * a tile or more of a long line's stage. Steps at tile distances of 8 or more run on
 * the tile in local memory; those at tile distances 4, 2 and 1 run in the registers
 * of the work-item holding the 8 tile elements involved. Pairs come from the input
 * (from_input) or the scratch arrays `keys` and `indices`, and go back there or to
 * the output (to_output): the sorted values, or (argsort) the int64 positions.
 *
 * The elements of a line are in_step (out_step) elements apart in the input (output);
 * its first one is found by walking the other, kept, axes, whose element strides in
 * the input and the output come as (kdim, kin, kout) triples. */

/* The key of an element's bits b: unsigned integers (key_kind 0) are their own keys,
   signed ones (1) have the sign bit flipped, and floats (2, IEEE 754 of any width) are
   ordered as integers with NaNs last and -0.0 equal to 0.0, by integer operations
   only (no floating-point support needed). */
DEVICE_FUNC INLINE ${key_type} sort_key(${key_type} b, ga_ssize key_kind)
{
    const ${key_type} sign = ${sign}, magnitude = b & (sign - 1);
    if (key_kind == 0)
        return b;
    if (key_kind == 1)
        return b ^ sign;
    if (magnitude > ${infinity})
        return ~(${key_type})0;
    if (magnitude == 0)
        b = 0;
    /* Negative floats order backwards as integers: flip all their bits; set the sign
       bit of the others so they follow. */
    return (b & sign) ? (~b & (sign | (sign - 1))) : (b | sign);
}

DEVICE_FUNC INLINE int sort_before(${key_type} ka, ${index_type} ia, ${key_type} kb, ${index_type} ib)
{
    return ka < kb || (ka == kb && ia < ib);
}

/* Whether the compare-exchange at position q of stage k puts the larger pair first. */
DEVICE_FUNC INLINE int sort_descending(ga_ssize q, ga_ssize k, ga_ssize padded)
{
    return (q & k) != 0 && k < padded;
}

/* Steps of distances top, ..., 2, 1 (top: 4, 2 or 1) in units of `stride` of stage k on
   the 8 pairs in registers, pair e being at position at + e * stride. */
DEVICE_FUNC INLINE void sort_in_registers(${key_type} *key, ${index_type} *index, ga_ssize at,
                                          ga_ssize stride, ga_ssize k, ga_ssize top, ga_ssize padded)
{
#pragma unroll
    for (int m = 4; m > 0; m >>= 1) {
        if (m > top)
            continue;
#pragma unroll
        for (int e = 0; e < 8; e++) {
            const int f = e | m;
            if (e & m)
                continue;
            if (sort_descending(at + e * stride, k, padded) != sort_before(key[f], index[f], key[e], index[e])) {
                const ${key_type} kt = key[e];
                const ${index_type} it = index[e];
                key[e] = key[f]; index[e] = index[f];
                key[f] = kt; index[f] = it;
            }
        }
    }
}

KERNEL void ${name}(GLOBAL_MEM char *out_base, ga_ssize out_off,
                    GLOBAL_MEM char *in_base, ga_ssize in_off,
                    GLOBAL_MEM char *keys_base, ga_ssize keys_off,
                    GLOBAL_MEM char *indices_base, ga_ssize indices_off,
                    ga_ssize n, ga_ssize padded, ga_ssize padded_bits, ga_ssize total,
                    ga_ssize tile, ga_ssize tile_bits, ga_ssize stride_bits,
                    ga_ssize k_first, ga_ssize k_last, ga_ssize j_top,
                    ga_ssize from_input, ga_ssize to_output, ga_ssize argsort, ga_ssize key_kind,
                    ga_ssize in_step, ga_ssize out_step${kept_params})
{
    LOCAL_MEM ${key_type} tile_keys[${tile}];
    LOCAL_MEM ${index_type} tile_indices[${tile}];
    const GLOBAL_MEM ${bits_type} *in = (const GLOBAL_MEM ${bits_type} *)(in_base + in_off);
    GLOBAL_MEM ${key_type} *keys = (GLOBAL_MEM ${key_type} *)(keys_base + keys_off);
    GLOBAL_MEM ${index_type} *indices = (GLOBAL_MEM ${index_type} *)(indices_base + indices_off);
    const ${key_type} last_key = (${key_type})~(${key_type})0;
    const ga_ssize stride = (ga_ssize)1 << stride_bits;
    const ga_ssize base = ((GID_0 >> stride_bits) << (stride_bits + tile_bits)) | (GID_0 & (stride - 1));
    ${key_type} key[8];
    ${index_type} index[8];

#pragma unroll
    for (int c = 0; c < 8; c++) {
        const ga_ssize t = LID_0 + c * LDIM_0;
        const ga_ssize q = base + t * stride, line = q >> padded_bits, i = q & (padded - 1);
        ${key_type} key_q = last_key;
        ${index_type} index_q = (${index_type})i;
        if (q < total && !from_input) {
            key_q = keys[q];
            index_q = indices[q];
        } else if (q < total && i < n) {
            ga_ssize rest = line, in_at = 0;
${kept_in}
            key_q = sort_key((${key_type})in[in_at + i * in_step], key_kind);
        }
        tile_keys[t] = key_q;
        tile_indices[t] = index_q;
    }
    LOCAL_BARRIER();
    /* One loop over the steps, as (stage k, distance j), with one barrier each: PoCL
       builds kernels with barriers in nested loops slowly. */
    ga_ssize k = k_first, j = j_top;
    while (k <= k_last) {
        const ga_ssize d = j >> stride_bits;   /* the distance in the tile */
        if (d >= 8) {
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const ga_ssize p = LID_0 + c * LDIM_0;
                const ga_ssize a = ((p & ~(d - 1)) << 1) | (p & (d - 1)), b = a + d;
                const ${key_type} ka = tile_keys[a], kb = tile_keys[b];
                const ${index_type} ia = tile_indices[a], ib = tile_indices[b];
                if (sort_descending(base + a * stride, k, padded) != sort_before(kb, ib, ka, ia)) {
                    tile_keys[a] = kb; tile_keys[b] = ka;
                    tile_indices[a] = ib; tile_indices[b] = ia;
                }
            }
            j >>= 1;
        } else {   /* the last steps, d..1, on this work-item's 8 tile elements */
            const ga_ssize own = 8 * LID_0;
#pragma unroll
            for (int e = 0; e < 8; e++) {
                key[e] = tile_keys[own + e];
                index[e] = tile_indices[own + e];
            }
            sort_in_registers(key, index, base + own * stride, stride, k, d, padded);
#pragma unroll
            for (int e = 0; e < 8; e++) {
                tile_keys[own + e] = key[e];
                tile_indices[own + e] = index[e];
            }
            k <<= 1;
            j = k >> 1;
        }
        LOCAL_BARRIER();
    }
#pragma unroll
    for (int c = 0; c < 8; c++) {
        const ga_ssize t = LID_0 + c * LDIM_0;
        const ga_ssize q = base + t * stride, line = q >> padded_bits, i = q & (padded - 1);
        if (q < total && !to_output) {
            keys[q] = tile_keys[t];
            indices[q] = tile_indices[t];
        } else if (q < total && i < n) {
            const ga_ssize position = (ga_ssize)tile_indices[t];
            ga_ssize rest = line, in_at = 0, out_at = 0;
${kept_in_out}
            if (argsort)
                ((GLOBAL_MEM ga_long *)(out_base + out_off))[out_at + i * out_step] = (ga_long)position;
            else
                ((GLOBAL_MEM ${bits_type} *)(out_base + out_off))[out_at + i * out_step] =
                    in[in_at + position * in_step];
        }
    }
}
