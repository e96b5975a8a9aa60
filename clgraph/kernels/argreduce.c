/* The ${extremum} of each line and the index of its first occurrence: value[j] and
 * index[j], where j walks the kept axes and r the reduced ones flattened in C order. A
 * NaN beats every number and the first NaN wins, as in numpy.
 *
 * A task is chunk c of line j (r in [c * chunk, c * chunk + chunk)); `lanes` consecutive
 * work-items (a power of two dividing the group size, at most ${max_group}) share one:
 * each scans every lanes-th element, then their (value, index) pairs meet in a tree in
 * local memory; lanes = 1 gives one work-item per task. With chunks > 1 the results are
 * partials, reduced by a second launch that reads their indices back. */
#define BETTER(v, b) (${better})
/* 0: lanes is 1, and the kernel has no tree and no barrier (cheaper to build and run) */
#define SHARED_LANES ${shared_lanes}

KERNEL void ${name}(GLOBAL_MEM char *value_base, ga_ssize value_off,
                    GLOBAL_MEM char *index_base, ga_ssize index_off,
                    GLOBAL_MEM char *in_base, ga_ssize in_off${index_params},
                    ga_ssize tasks, ga_ssize R, ga_ssize chunks, ga_ssize chunk, ga_ssize lanes${dim_params})
{
#if SHARED_LANES
    LOCAL_MEM ${value_type} tree_values[${max_group}];
    LOCAL_MEM ga_ssize tree_indices[${max_group}];
#endif
    GLOBAL_MEM ${out_type} *value = (GLOBAL_MEM ${out_type} *)(value_base + value_off);
    GLOBAL_MEM ga_long *index = (GLOBAL_MEM ga_long *)(index_base + index_off);
    const GLOBAL_MEM ${in_type} *in = (const GLOBAL_MEM ${in_type} *)(in_base + in_off);
${index_pointer}
    const ga_ssize lane = LID_0 % lanes, per_group = LDIM_0 / lanes;
    /* The bound is the same for the whole group, so every work-item meets the barriers. */
    for (ga_ssize w0 = GID_0 * per_group; w0 < tasks; w0 += GDIM_0 * per_group) {
        const ga_ssize w = w0 + LID_0 / lanes;
        ${value_type} best = 0;
        ga_ssize best_at = -1;   /* -1: no element seen (a lane past the chunk's end) */
        if (w < tasks) {
            const ga_ssize j = w / chunks, c = w % chunks;
            ga_ssize rest = j, base = 0;
${kept_lines}
            const ga_ssize first = c * chunk;
            const ga_ssize last = first + chunk < R ? first + chunk : R;
            ga_ssize r = first + lane;
            if (r < last) {
                ga_ssize rr = r, at = base;
${locate}
                best = ${load};
                best_at = ${index_of};
            }
            /* a select, not a branch: CPU compilers keep the loop tight */
            for (r += lanes; r < last; r += lanes) {
                ga_ssize rr = r, at = base;
${locate}
                const ${value_type} v = ${load};
                const int better = BETTER(v, best);
                best = better ? v : best;
                best_at = better ? ${index_of} : best_at;
            }
        }
#if SHARED_LANES
        if (lanes > 1) {
            tree_values[LID_0] = best;
            tree_indices[LID_0] = best_at;
            LOCAL_BARRIER();
            for (ga_ssize s = lanes / 2; s > 0; s /= 2) {
                if (lane < s) {
                    const ${value_type} v = tree_values[LID_0 + s];
                    const ga_ssize at = tree_indices[LID_0 + s];
                    /* equal values (or two NaNs): the lower index is the first occurrence */
                    if (at >= 0 && (best_at < 0 || BETTER(v, best) || (at < best_at && !BETTER(best, v)))) {
                        best = v;
                        best_at = at;
                        tree_values[LID_0] = v;
                        tree_indices[LID_0] = at;
                    }
                }
                LOCAL_BARRIER();
            }
        }
#endif
        if (w < tasks && lane == 0) {
            ${store}
            index[w] = best_at;
        }
    }
}

#undef BETTER
#undef SHARED_LANES
