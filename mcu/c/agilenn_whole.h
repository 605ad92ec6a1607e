/* Plain-loop int8 kernels that run a whole-network layer table (mcu/whole_network_run.cpp
 * generates the table from mcu/whole_network_plan.h: layer shapes, arena offsets, seeded random
 * parameters) to count its instructions on the Cortex-M7. Same arithmetic as mcu/'s graph
 * (int32 accumulators, per-channel Q31 multiplier and shift, gemmlowp double rounding), but not
 * mcu/'s tuned kernels and not a trained model's weights. */
#ifndef AGILENN_WHOLE_H
#define AGILENN_WHOLE_H
#include <stddef.h>
#include <stdint.h>

enum {
  AGL_WHOLE_DEPTHWISE = 0,
  AGL_WHOLE_POINTWISE = 1,
  AGL_WHOLE_ADD = 2,
  AGL_WHOLE_AVGPOOL = 3,
  AGL_WHOLE_DENSE = 4
};

typedef struct {
  int kind;
  int in_h, in_w, in_c, out_h, out_w, out_c, stride, pad_top, pad_left;
  size_t in0, in1, out;      /* arena offsets: input, second input (add), output */
  const int8_t* weight;      /* depthwise [c][9]; pointwise / dense [out][in] */
  const int32_t* bias;       /* (out_c); pointwise / dense: with the input zero point folded in */
  const int32_t* multiplier; /* (out_c); add: [in0, in1, out]; pool: [0] */
  const int32_t* shift;      /* like multiplier */
  int32_t in_zp, in1_zp, out_zp, act_min, act_max;
} agl_whole_op;

/* Runs op on the arena (the first op reads uint8 pixels as int8 value - 128 with in_zp -128;
 * the dense op writes int32 logits). */
void agl_whole_run_op(const agl_whole_op* op, uint8_t* arena);

#endif
