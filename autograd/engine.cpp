#include "autograd/engine.h"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/io/error.h"

namespace agilenn::ag {

namespace {

struct NodeState {
  int deps = 0;
  bool needed = false;
  Tensor buffer;  // sum of the gradients received so far
};

struct BySeq {
  bool operator()(const Node* a, const Node* b) const { return a->seq < b->seq; }
};

Tensor accumulate(const Tensor& acc, const Tensor& g) {
  return acc.defined() ? add(acc, g) : g;
}

// Walks the graph from the outputs; `capture` (grad mode) lists the nodes whose incoming gradient
// is wanted, else (backward mode) every leaf accumulator gets its gradient added to .grad.
std::unordered_map<Node*, Tensor> run_backward(const std::vector<Tensor>& outputs,
                                               const std::vector<Tensor>& grad_outputs,
                                               const std::unordered_set<Node*>* capture,
                                               bool retain_graph, bool create_graph) {
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw Error("grad: " + std::to_string(grad_outputs.size()) + " grad_outputs for " +
                std::to_string(outputs.size()) + " outputs");
  std::vector<std::pair<std::shared_ptr<Node>, Tensor>> roots;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    auto node = gradient_edge(out);
    if (!node)
      throw Error("grad: output " + std::to_string(i) +
                  " does not require grad and has no grad_fn");
    Tensor g = i < grad_outputs.size() ? grad_outputs[i] : Tensor();
    if (!g.defined()) {
      if (out.numel() != 1)
        throw Error(
            "grad: a gradient can be created implicitly only for single-element outputs, output " +
            std::to_string(i) + " has shape " + out.shape().str());
      g = Tensor::full(out.shape(), 1.0, out.dtype());
    } else if (g.shape() != out.shape() || g.dtype() != out.dtype()) {
      throw Error("grad: grad_output " + std::to_string(i) + " is " + g.shape().str() + " " +
                  dtype_name(g.dtype()) + ", output is " + out.shape().str() + " " +
                  dtype_name(out.dtype()));
    }
    roots.emplace_back(std::move(node), g);
  }

  // Discover the graph (iteratively: graphs can be deep).
  std::unordered_map<Node*, NodeState> state;
  std::vector<Node*> nodes, stack;
  for (auto& [n, g] : roots)
    if (state.emplace(n.get(), NodeState{}).second) {
      nodes.push_back(n.get());
      stack.push_back(n.get());
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (auto& c : n->next)
      if (c && state.emplace(c.get(), NodeState{}).second) {
        nodes.push_back(c.get());
        stack.push_back(c.get());
      }
  }
  // seq is a topological order (inputs are created before the ops that use them): children first.
  std::sort(nodes.begin(), nodes.end(), [](Node* a, Node* b) { return a->seq < b->seq; });
  for (Node* n : nodes) {
    NodeState& s = state[n];
    if (capture) {
      s.needed = capture->count(n) > 0;
      for (auto& c : n->next)
        if (c && state[c.get()].needed) s.needed = true;
    } else {
      s.needed = true;
    }
  }
  for (Node* n : nodes) {
    if (!state[n].needed || n->is_accumulator) continue;
    for (auto& c : n->next)
      if (c && state[c.get()].needed) ++state[c.get()].deps;
  }

  GradModeGuard mode(create_graph);
  for (auto& [n, g] : roots) {
    NodeState& s = state[n.get()];
    s.buffer = accumulate(s.buffer, g);
  }
  std::priority_queue<Node*, std::vector<Node*>, BySeq> ready;
  for (auto& [n, g] : roots)
    if (state[n.get()].needed && state[n.get()].deps == 0) {
      ready.push(n.get());
      state[n.get()].deps = -1;  // queued
    }

  std::unordered_map<Node*, Tensor> captured;
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    NodeState& s = state[n];
    Tensor g = std::move(s.buffer);
    s.buffer = Tensor();
    if (capture && capture->count(n)) captured[n] = g;
    if (n->is_accumulator) {
      if (!capture && g.defined()) {
        if (auto leaf = n->leaf.lock()) {
          Tensor lt(leaf);
          Tensor ng = create_graph ? g : g.detach();
          lt.set_grad(lt.grad().defined() ? add(lt.grad(), ng) : ng);
        }
      }
      continue;
    }
    std::vector<Tensor> grads;
    if (g.defined()) {
      if (!n->backward)
        throw Error(std::string("backward through ") + n->name +
                    " a second time (its saved tensors were freed): pass retain_graph");
      grads = n->backward(*n, g);
      if (grads.size() != n->next.size())
        throw Error(std::string(n->name) + ": backward returned " + std::to_string(grads.size()) +
                    " gradients for " + std::to_string(n->next.size()) + " inputs");
    }
    for (size_t i = 0; i < n->next.size(); ++i) {
      Node* c = n->next[i].get();
      if (!c) continue;
      NodeState& cs = state[c];
      if (!cs.needed) continue;
      if (i < grads.size() && grads[i].defined()) cs.buffer = accumulate(cs.buffer, grads[i]);
      if (--cs.deps == 0) {
        ready.push(c);
        cs.deps = -1;
      }
    }
    if (!retain_graph) n->release();
  }
  return captured;
}

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph,
                         int retain_graph, bool allow_unused) {
  std::unordered_set<Node*> capture;
  std::vector<std::shared_ptr<Node>> input_nodes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto n = gradient_edge(inputs[i]);
    if (!n) throw Error("grad: input " + std::to_string(i) + " does not require grad");
    capture.insert(n.get());
    input_nodes.push_back(std::move(n));
  }
  const bool retain = retain_graph < 0 ? create_graph : retain_graph != 0;
  auto captured = run_backward(outputs, grad_outputs, &capture, retain, create_graph);
  std::vector<Tensor> result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto it = captured.find(input_nodes[i].get());
    Tensor g = it == captured.end() ? Tensor() : it->second;
    if (!g.defined()) {
      if (!allow_unused)
        throw Error("grad: input " + std::to_string(i) +
                    " is not used by the outputs (pass allow_unused)");
    } else if (!create_graph && g.requires_grad()) {
      g = g.detach();
    }
    result.push_back(g);
  }
  return result;
}

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph, bool create_graph) {
  run_backward(outputs, grad_outputs, nullptr, retain_graph || create_graph, create_graph);
}

}  // namespace agilenn::ag
