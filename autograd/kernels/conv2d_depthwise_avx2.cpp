// Depthwise conv2d loops compiled for the avx2 instruction set (see conv2d_depthwise_impl.h).
#include "autograd/kernels/conv2d_common.h"

#pragma GCC target("avx2,fma")
#pragma GCC optimize("fp-contract=fast")
#define AGILENN_DW_NS dw_avx2
#include "autograd/kernels/conv2d_depthwise_impl.h"
