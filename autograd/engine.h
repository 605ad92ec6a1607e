// Reverse-mode differentiation over the recorded graph, in the manner of torch.autograd.
#pragma once
#include <vector>

#include "autograd/tensor.h"

namespace agilenn::ag {

// Gradients of sum_i <grad_outputs[i], outputs[i]> with respect to each of `inputs`.
// grad_outputs[i] may be undefined for a single-element output (then 1).
// create_graph: the backward pass is itself recorded, so the results can be differentiated again.
// retain_graph: keep saved tensors so the graph can be walked again (defaults to create_graph).
// allow_unused: an input the outputs do not depend on gives an undefined tensor instead of an
// error.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false,
                         int retain_graph = -1, bool allow_unused = false);

// Accumulates d(sum <grad_outputs, outputs>)/d(leaf) into every reachable leaf's .grad().
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

}  // namespace agilenn::ag
