#include <boost/test/unit_test.hpp>
#include <cmath>

#include "autograd/engine.h"
#include "autograd/graph.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/random.h"
#include "nn/io/error.h"

using namespace agilenn::ag;

static Tensor f64(std::vector<double> v, Shape s) {
  return Tensor::from_vector(v, s, DType::F64);
}

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(first_and_higher_order_of_a_cube) {
  Tensor x = f64({2.0}, Shape{}).set_requires_grad();
  Tensor y = mul(mul(x, x), x);  // x^3
  auto g1 = grad({y}, {x}, {}, /*create_graph=*/true);
  BOOST_TEST(g1[0].item() == 12.0);  // 3x^2
  BOOST_TEST(g1[0].requires_grad());
  auto g2 = grad({g1[0]}, {x}, {}, true);
  BOOST_TEST(g2[0].item() == 12.0);  // 6x
  auto g3 = grad({g2[0]}, {x});
  BOOST_TEST(g3[0].item() == 6.0);
  BOOST_TEST(!g3[0].requires_grad());
}

BOOST_AUTO_TEST_CASE(backward_accumulates_into_leaves) {
  Tensor a = f64({1, 2, 3}, Shape{3}).set_requires_grad();
  Tensor b = f64({4, 5, 6}, Shape{3}).set_requires_grad();
  sum(mul(a, b)).backward();
  BOOST_TEST(a.grad().to_vector() == std::vector<double>({4, 5, 6}));
  sum(a).backward();
  BOOST_TEST(a.grad().to_vector() == std::vector<double>({5, 6, 7}));
  BOOST_TEST(b.grad().to_vector() == std::vector<double>({1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(shared_subexpression_sums_paths) {
  Tensor x = f64({3.0}, Shape{}).set_requires_grad();
  Tensor y = exp(x);
  Tensor z = add(mul(y, y), y);  // e^2x + e^x -> 2e^2x + e^x
  auto g = grad({z}, {x});
  BOOST_CHECK_CLOSE(g[0].item(), 2 * std::exp(6.0) + std::exp(3.0), 1e-12);
}

BOOST_AUTO_TEST_CASE(second_backward_without_retain_is_an_error) {
  Tensor x = f64({1, 2}, Shape{2}).set_requires_grad();
  Tensor y = sum(exp(x));
  grad({y}, {x});
  BOOST_CHECK_THROW(grad({y}, {x}), agilenn::Error);
  Tensor z = sum(exp(x));
  grad({z}, {x}, {}, false, /*retain_graph=*/1);
  BOOST_CHECK_NO_THROW(grad({z}, {x}));
}

BOOST_AUTO_TEST_CASE(unused_inputs) {
  Tensor x = f64({1}, Shape{1}).set_requires_grad();
  Tensor u = f64({1}, Shape{1}).set_requires_grad();
  Tensor y = sum(mul(x, 2.0));
  BOOST_CHECK_THROW(grad({y}, {x, u}, {}, false, 1), agilenn::Error);
  auto g = grad({y}, {x, u}, {}, false, 0, /*allow_unused=*/true);
  BOOST_TEST(g[0].item() == 2.0);
  BOOST_TEST(!g[1].defined());
}

BOOST_AUTO_TEST_CASE(non_scalar_output_needs_grad_output) {
  Tensor x = f64({1, 2}, Shape{2}).set_requires_grad();
  Tensor y = mul(x, 3.0);
  BOOST_CHECK_THROW(grad({y}, {x}), agilenn::Error);
  auto g = grad({y}, {x}, {f64({1, 10}, Shape{2})});
  BOOST_TEST(g[0].to_vector() == std::vector<double>({3, 30}));
}

BOOST_AUTO_TEST_CASE(no_grad_guard_records_nothing) {
  Tensor x = f64({1}, Shape{1}).set_requires_grad();
  {
    NoGradGuard ng;
    Tensor y = exp(x);
    BOOST_TEST(!y.requires_grad());
  }
  BOOST_TEST(exp(x).requires_grad());
}

BOOST_AUTO_TEST_CASE(grad_wrt_intermediate) {
  Tensor x = f64({2.0}, Shape{}).set_requires_grad();
  Tensor h = mul(x, x);
  Tensor y = mul(h, 3.0);
  auto g = grad({y}, {h, x});
  BOOST_TEST(g[0].item() == 3.0);
  BOOST_TEST(g[1].item() == 12.0);
}

BOOST_AUTO_TEST_CASE(deep_graph_frees_without_recursion) {
  const int64_t before = live_node_count();
  {
    Tensor x = f64({1.0}, Shape{1}).set_requires_grad();
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = add(y, 1e-6);
    auto g = grad({sum(y)}, {x});
    BOOST_TEST(g[0].item() == 1.0);
    Tensor z = x;
    for (int i = 0; i < 200000; ++i) z = mul(z, 1.0);
  }  // the 200k-node chain of z is destroyed here, never walked by backward
  BOOST_TEST(live_node_count() == before);
}

BOOST_AUTO_TEST_CASE(create_graph_loop_does_not_leak) {
  Rng rng(7);
  Tensor w = randn(Shape{8, 8}, rng, DType::F64).set_requires_grad();
  Tensor x = randn(Shape{4, 8}, rng, DType::F64);
  auto step = [&] {
    Tensor h = tanh(matmul(x, w));
    auto gx = grad({sum(mul(h, h))}, {w}, {}, true);
    Tensor loss = sum(abs(gx[0]));
    auto gw = grad({loss}, {w});
    return sum(gw[0]).item();
  };
  step();
  const int64_t tensors = live_tensor_count(), nodes = live_node_count();
  const auto mem = allocator_stats();
  for (int i = 0; i < 1000; ++i) step();
  BOOST_TEST(live_tensor_count() == tensors);
  BOOST_TEST(live_node_count() == nodes);
  BOOST_TEST(allocator_stats().live_bytes == mem.live_bytes);
}

BOOST_AUTO_TEST_CASE(errors_are_clear) {
  Tensor a = f64({1, 2, 3}, Shape{3});
  Tensor b = f64({1, 2}, Shape{2});
  BOOST_CHECK_THROW(add(a, b), agilenn::Error);
  BOOST_CHECK_THROW(matmul(a, b), agilenn::Error);
  BOOST_CHECK_THROW(reshape(a, Shape{2, 2}), agilenn::Error);
  BOOST_CHECK_THROW(add(a, Tensor::zeros(Shape{3}, DType::F32)), agilenn::Error);
  BOOST_CHECK_THROW(gather_last(reshape(a, Shape{1, 3}), Tensor::from_ints({3}, Shape{1})),
                    agilenn::Error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(large_elementwise_ops_split_over_threads_give_the_same_values) {
  Rng rng(31);
  Tensor a = randn(Shape{16, 30, 30, 8}, rng);  // 115k elements: above the parallel threshold
  Tensor b = randn(Shape{8}, rng);
  Tensor c = randn(Shape{16, 1, 30, 1}, rng);
  auto run = [&] {
    std::vector<std::vector<double>> r;
    r.push_back(add(a, b).to_vector());
    r.push_back(mul(a, c).to_vector());
    r.push_back(relu6(mul(a, 4.0)).to_vector());
    Tensor x = mul(a, 4.0).set_requires_grad(true);
    r.push_back(grad({sum(mul(relu6(x), a))}, {x})[0].to_vector());
    return r;
  };
  agilenn::ag::set_num_threads(1);
  auto one = run();
  agilenn::ag::set_num_threads(2);
  auto two = run();
  for (size_t i = 0; i < one.size(); ++i) BOOST_TEST(one[i] == two[i]);
  // Spot-check values against plain loops.
  auto av = a.to_vector(), bv = b.to_vector(), cv = c.to_vector();
  for (size_t i = 0; i < av.size(); i += 997) {
    BOOST_TEST(two[0][i] == double(float(av[i]) + float(bv[i % 8])));
    const size_t n = i / (30 * 30 * 8), w = (i / 8) % 30;
    BOOST_TEST(two[1][i] == double(float(av[i]) * float(cv[n * 30 + w])));
    const double x = double(float(av[i]) * 4.0f);
    BOOST_TEST(two[3][i] == ((x > 0 && x < 6) ? av[i] : 0.0));
  }
}
