#include "autograd/graph.h"

#include "autograd/ops.h"

#include "nn/io/error.h"

namespace agilenn::ag {

namespace {
thread_local bool t_grad_mode = true;
std::atomic<uint64_t> g_next_seq{0};
std::atomic<int64_t> g_live_nodes{0};
}  // namespace

bool grad_mode_enabled() {
  return t_grad_mode;
}
GradModeGuard::GradModeGuard(bool enabled) : prev_(t_grad_mode) {
  t_grad_mode = enabled;
}
GradModeGuard::~GradModeGuard() {
  t_grad_mode = prev_;
}

Node::Node(const char* n) : name(n), seq(g_next_seq.fetch_add(1, std::memory_order_relaxed)) {
  g_live_nodes.fetch_add(1, std::memory_order_relaxed);
}

Node::~Node() {
  g_live_nodes.fetch_sub(1, std::memory_order_relaxed);
  // Destroying the last reference to a long chain would recurse once per node. Instead, move every
  // child we hold the last reference to onto an explicit stack and empty its own edges first.
  std::vector<std::shared_ptr<Node>> stack;
  auto take = [&stack](std::vector<std::shared_ptr<Node>>& edges) {
    for (auto& e : edges)
      if (e && e.use_count() == 1) stack.push_back(std::move(e));
    edges.clear();
  };
  backward = nullptr;  // captured tensors may hold nodes too; they are released below as usual
  take(next);
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    n->backward = nullptr;  // drop captured inputs first so the children's counts fall
    take(n->next);
  }  // n is destroyed here with no children of its own left
}

Tensor Node::output() {
  if (!saved_out)
    throw Error(
        std::string(name) +
        ": saved output was released (backward through the graph a second time? use retain_graph)");
  auto impl = std::make_shared<TensorImpl>(out_shape, out_dtype, saved_out);
  impl->grad_fn = shared_from_this();
  return Tensor(impl);
}

void Node::release() {
  backward = nullptr;
  saved_out.reset();
  released = true;
}

namespace {
thread_local MacCounter* t_mac_counter = nullptr;
}
MacCounter::MacCounter() : prev_(t_mac_counter) {
  t_mac_counter = this;
}
MacCounter::~MacCounter() {
  t_mac_counter = prev_;
}
void MacCounter::add(int64_t n) {
  if (t_mac_counter) t_mac_counter->macs_ += n;
}

int64_t live_node_count() {
  return g_live_nodes.load();
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_mode) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

void record(Tensor& out, const char* name, std::vector<Tensor> inputs, Node::BackwardFn backward,
            bool save_output) {
  // Edges first: a leaf's accumulator is created here and must get a smaller seq than the node.
  std::vector<std::shared_ptr<Node>> edges;
  edges.reserve(inputs.size());
  for (auto& t : inputs) edges.push_back(t.defined() ? gradient_edge(t) : nullptr);
  auto node = std::make_shared<Node>(name);
  node->next = std::move(edges);
  node->backward = std::move(backward);
  if (save_output) {
    node->saved_out = out.impl()->storage;
    node->out_shape = out.shape();
    node->out_dtype = out.dtype();
  }
  out.impl()->grad_fn = std::move(node);
}

}  // namespace agilenn::ag
