// Depthwise conv2d loops compiled for the generic instruction set (see conv2d_depthwise_impl.h).
#include "autograd/kernels/conv2d_common.h"

#pragma GCC optimize("fp-contract=fast")
#define AGILENN_DW_NS dw_generic
#include "autograd/kernels/conv2d_depthwise_impl.h"
