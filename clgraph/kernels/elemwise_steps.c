/* A loop of elementwise steps in one launch: for t = 0 .. steps - 1,
 *
 *     states[(first + t) % length] = f(states[(first + t + tap) % length], in_k + t * in_k_step, ...)
 *
 * (tap < 0 and first + tap >= 0: the step reads the result of an earlier step, or an
 * initial state held before it). Element i of a step reads element i of the earlier
 * one only, so a work-item runs every step of its elements and waits for no other:
 * the loop needs no barrier. The states are C-contiguous, state_step elements apart;
 * each other input is an array of one state's shape or one element, in_k_step elements
 * past its value at the step before (0: the same value at every step). */
KERNEL void ${name}(GLOBAL_MEM char *states_base, ga_ssize states_off, ga_ssize n, ga_ssize steps,
                    ga_ssize first, ga_ssize tap, ga_ssize length, ga_ssize state_step${input_params})
{
    GLOBAL_MEM ${state_type} *states = (GLOBAL_MEM ${state_type} *)(states_base + states_off);
${first_pointers}
    for (ga_ssize i = GLOBAL_ID_0; i < n; i += LDIM_0 * GDIM_0) {
        for (ga_ssize t = 0; t < steps; ++t) {
            GLOBAL_MEM ${state_type} *out0 = states + (first + t) % length * state_step;
${step_pointers}
${body}
        }
    }
}
