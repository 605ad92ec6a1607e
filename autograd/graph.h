// The recorded graph: one Node per op result (all our ops have one output), edges to the nodes of
// the inputs. A Node's backward maps the output gradient to one gradient per input, using the
// engine's own differentiable ops, so recording the backward gives higher-order gradients.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "autograd/tensor.h"

namespace agilenn::ag {

struct Node : std::enable_shared_from_this<Node> {
  using BackwardFn = std::function<std::vector<Tensor>(Node& self, const Tensor& grad_output)>;

  Node(const char* name);
  ~Node();  // frees long chains of nodes iteratively (no recursion, no stack overflow)

  const char* name;
  uint64_t seq;                             // creation order: a topological order
  std::vector<std::shared_ptr<Node>> next;  // one per input; null when that input needs no grad
  BackwardFn backward;                      // empty for leaf accumulators and after release

  // The op's own output, when the backward needs it (exp, sigmoid, softmax ...). Stored as storage
  // plus shape so the node does not own the output tensor (no reference cycle); output() rebuilds
  // a tensor whose grad_fn is this node, so the saved output stays differentiable.
  std::shared_ptr<Storage> saved_out;
  Shape out_shape;
  DType out_dtype = DType::F32;
  Tensor output();

  std::weak_ptr<TensorImpl> leaf;  // set on leaf accumulators only
  bool is_accumulator = false;     // a leaf's AccumulateGrad node
  bool released = false;           // saved tensors freed by a backward without retain_graph
  void release();
};

// Thread-local switch: ops record nodes only while grad mode is on.
bool grad_mode_enabled();
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};
struct NoGradGuard : GradModeGuard {
  NoGradGuard() : GradModeGuard(false) {}
};

int64_t live_node_count();

// Used by op implementations: true when the result of an op on `inputs` must be recorded.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
// Attach a node to `out` whose inputs are `inputs` (in the order backward returns gradients).
void record(Tensor& out, const char* name, std::vector<Tensor> inputs, Node::BackwardFn backward,
            bool save_output = false);

}  // namespace agilenn::ag
