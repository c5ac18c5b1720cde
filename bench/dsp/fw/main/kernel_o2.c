/*
 * kernel_o2.c - the same kernel source under other names, compiled -O2 (CMakeLists.txt).
 */
#define dsp_kernel_reset dsp_kernel_reset_o2
#define dsp_kernel_run   dsp_kernel_run_o2
#include "dsp_kernel.c"
